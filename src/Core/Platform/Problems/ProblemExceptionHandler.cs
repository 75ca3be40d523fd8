using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.Problems;

/// <summary>
/// The one path from an exception to a response. Expected failures keep their status and a useful
/// detail; anything else is a 500 that names the trace id and never the stack trace.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody is left to read a response.
            httpContext.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            return true;
        }

        var (type, detail, errors) = Describe(exception);
        if (type.Status >= 500)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }
        else
        {
            LogAnswered(logger, exception, type.Status, httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = type.Status;
        if (exception is ProblemException { RetryAfter: { } retryAfter })
        {
            httpContext.Response.Headers.RetryAfter = ProblemWriter.RetryAfterSeconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (exception is ProblemException { Location: { } location })
        {
            httpContext.Response.Headers.Location = location;
        }

        var problem = new ProblemDetails { Type = type.Uri, Title = type.Title, Status = type.Status, Detail = detail };
        foreach (var (name, value) in (exception as ProblemException)?.Extensions ?? ProblemWriter.NoExtensions)
        {
            problem.Extensions[name] = value;
        }

        if (errors is not null)
        {
            problem.Extensions["errors"] = errors;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static (ProblemType Type, string Detail, IReadOnlyDictionary<string, string[]>? Errors) Describe(Exception exception) => exception switch
    {
        ProblemException p => (p.Type, p.Message, p.Errors),
        BadHttpRequestException { InnerException: JsonException json } => (ProblemTypes.MalformedJson, DescribeJson(json), null),
        JsonException json => (ProblemTypes.MalformedJson, DescribeJson(json), null),
        BadHttpRequestException { StatusCode: 413 } => (ProblemTypes.PayloadTooLarge, "The request body is larger than this endpoint accepts.", null),
        BadHttpRequestException { StatusCode: 415 } => (ProblemTypes.UnsupportedMediaType, "Send the body as application/json.", null),
        BadHttpRequestException bad => (ProblemTypes.ForStatus(bad.StatusCode), Sanitize(bad), null),
        _ => (ProblemTypes.Internal, "The server failed to handle this request. Quote the traceId when you report it.", null),
    };

    // System.Text.Json messages name .NET types; say where the body is wrong without them.
    private static string DescribeJson(JsonException json)
    {
        var where = json.Path is { Length: > 0 } path ? $" at {path}" : string.Empty;
        var line = json.LineNumber is { } l ? $" (line {l + 1}, byte {json.BytePositionInLine + 1})" : string.Empty;
        var reason = json.Message.Contains("could not be mapped", StringComparison.Ordinal) ? ": unknown field"
            : json.Message.Contains("could not be converted", StringComparison.Ordinal) ? ": wrong type for this field"
            : json.Message.Contains("missing required properties", StringComparison.Ordinal) ? ": a required field is missing"
            : string.Empty;
        return $"The request body is not valid JSON for this endpoint{where}{line}{reason}.";
    }

    private static string Sanitize(BadHttpRequestException bad) =>
        bad.Message.StartsWith("Required parameter", StringComparison.Ordinal) || bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase)
            ? "The request body is missing or could not be read."
            : "The request could not be read.";

    // The client's fault, so not an error; at Debug the exception is there when a 4xx is a surprise.
    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Answered {Status} for {Method} {Path}")]
    private static partial void LogAnswered(ILogger logger, Exception exception, int status, string method, PathString path);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);
}
