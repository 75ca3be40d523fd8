using AgentCrm.Core.Platform.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace AgentCrm.Core.Platform.Http;

/// <summary>
/// After routing: a request that carries a body must send a media type its endpoint accepts. Endpoints
/// declare others with .Accepts(...) (webhooks taking form posts, say); the default is JSON.
/// </summary>
public sealed class ContentTypeMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (!hasBody || context.GetEndpoint() is not { } endpoint)
        {
            return next(context);
        }

        var accepted = endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes;
        if (IsAccepted(request.ContentType, accepted))
        {
            return next(context);
        }

        var expected = accepted is { Count: > 0 } ? string.Join(", ", accepted) : "application/json";
        var sent = string.IsNullOrEmpty(request.ContentType) ? "no Content-Type" : $"Content-Type {request.ContentType}";
        return ProblemWriter.WriteAsync(context, ProblemTypes.UnsupportedMediaType, $"This endpoint accepts {expected}; the request sent {sent}.").AsTask();
    }

    private static bool IsAccepted(string? contentType, IReadOnlyList<string>? accepted)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var sent))
        {
            return false;
        }

        if (accepted is null || accepted.Count == 0)
        {
            return sent.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || sent.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);
        }

        foreach (var type in accepted)
        {
            if (MediaTypeHeaderValue.TryParse(type, out var allowed) && sent.IsSubsetOf(allowed))
            {
                return true;
            }
        }

        return false;
    }
}
