using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Platform.Problems;

/// <summary>
/// Gives every problem response the same shape, whoever produced it (routing, the exception handler,
/// an endpoint): a documented <c>type</c>, the request path as <c>instance</c>, and the request and
/// trace ids a support call needs.
/// </summary>
public static class ProblemDetailsEnricher
{
    public static void Enrich(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        problem.Status ??= http.Response.StatusCode;
        var status = problem.Status.Value;

        if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal) || problem.Type == "about:blank")
        {
            var type = problem.Extensions.ContainsKey("errors") && status == 400 ? ProblemTypes.Validation : ProblemTypes.ForStatus(status);
            problem.Type = type.Uri;
            problem.Title = type.Title;
        }

        problem.Instance ??= http.Request.Path.Value;
        problem.Extensions["requestId"] = http.TraceIdentifier;
        problem.Extensions["traceId"] = Activity.Current?.TraceId.ToHexString();
        if (status == 405 && http.Response.Headers.Allow.Count > 0)
        {
            problem.Detail ??= $"This resource supports {http.Response.Headers.Allow}.";
        }
        else if (status == 404)
        {
            problem.Detail ??= $"No resource at {http.Request.Path}.";
        }
    }
}
