using AgentCrm.Core.Platform.Http;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Functions.Endpoints;

/// <summary>What the resource endpoints share: id parsing, ETags, and the problem statuses they declare.</summary>
internal static class EndpointConventions
{
    /// <summary>A route id that is no UUID names nothing: the same 404 as an id from another workspace.</summary>
    public static Guid ParseId(string id, Func<ProblemException> notFound) =>
        Guid.TryParse(id, out var parsed) ? parsed : throw notFound();

    public static T WithETag<T>(this HttpContext http, T body, int version)
    {
        http.Response.Headers.ETag = IfMatch.ETag(version);
        return body;
    }

    public static IfMatch IfMatchOf(HttpContext http) => IfMatch.Parse(http.Request.Headers.IfMatch.ToString());

    /// <summary>Declares problem responses for OpenAPI; every workspace endpoint can answer 401 and 403.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses.Concat([StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden]).Distinct())
        {
            builder.ProducesProblem(status);
        }

        return builder;
    }
}
