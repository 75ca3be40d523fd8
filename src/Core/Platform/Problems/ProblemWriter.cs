using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Platform.Problems;

/// <summary>For middleware that answers before any endpoint runs (413, 415): writes through the same problem service.</summary>
public static class ProblemWriter
{
    public static ValueTask WriteAsync(HttpContext context, ProblemType type, string detail)
    {
        context.Response.StatusCode = type.Status;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        return service.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Type = type.Uri, Title = type.Title, Status = type.Status, Detail = detail },
        });
    }
}
