using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Core.Platform.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AgentCrm.Core.Platform.Http;

/// <summary>
/// Refuses a declared Content-Length over the limit before reading a byte. Chunked bodies are cut off by
/// Kestrel's MaxRequestBodySize (set to the same limit) and reach the exception handler as a 413.
/// </summary>
public sealed class BodyLimitMiddleware(RequestDelegate next, IOptions<HttpOptions> options)
{
    private readonly long _limit = options.Value.MaxRequestBodyBytes;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > _limit)
        {
            return ProblemWriter.WriteAsync(context, ProblemTypes.PayloadTooLarge,
                $"The request body is {context.Request.ContentLength} bytes; the limit is {_limit} bytes.").AsTask();
        }

        return next(context);
    }
}
