using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Platform.Problems;

/// <summary>For middleware that answers before any endpoint runs (413, 415, 429): writes through the same problem service.</summary>
public static class ProblemWriter
{
    internal static readonly IReadOnlyDictionary<string, object?> NoExtensions = new Dictionary<string, object?>();

    public static ValueTask WriteAsync(HttpContext context, ProblemType type, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        context.Response.StatusCode = type.Status;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        var problem = new ProblemDetails { Type = type.Uri, Title = type.Title, Status = type.Status, Detail = detail };
        foreach (var (name, value) in extensions ?? NoExtensions)
        {
            problem.Extensions[name] = value;
        }

        return service.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    /// <summary>Writes <paramref name="problem"/> as its handler would, Retry-After included.</summary>
    public static ValueTask WriteAsync(HttpContext context, ProblemException problem)
    {
        if (problem.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return WriteAsync(context, problem.Type, problem.Message, problem.Extensions);
    }

    /// <summary>Retry-After in whole seconds, rounded up, at least one.</summary>
    public static long RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
}
