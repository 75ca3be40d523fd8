using System.Security.Cryptography;
using System.Text;
using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace AgentCrm.Core.Platform.Http;

/// <summary>
/// <c>Idempotency-Key</c> on POST and PATCH from an authenticated caller (DESIGN.md §3; anonymous requests
/// ignore the header). The key is claimed in PostgreSQL before the endpoint runs, so concurrent duplicates
/// cannot both execute and nothing lives only in memory. The same key with the same request replays the
/// stored status, headers and body; with a different request it is a 422; while the first is still running
/// a 409 with Retry-After. A 5xx or an exception is not stored: the key is released for a retry.
/// </summary>
public sealed partial class IdempotencyMiddleware(RequestDelegate next, IdempotencyStore store, IdempotencyOptions options, ILogger<IdempotencyMiddleware> logger)
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    // Enough to replay a response faithfully; nothing caller- or instance-specific.
    private static readonly string[] ReplayedHeaders = [HeaderNames.ContentType, HeaderNames.Location, HeaderNames.ETag];

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!(HttpMethods.IsPost(request.Method) || HttpMethods.IsPatch(request.Method))
            || !request.Headers.TryGetValue(HeaderName, out var values)
            || context.Features.Get<Caller>() is not { } caller)
        {
            await next(context);
            return;
        }

        var key = values.Count == 1 ? values[0] ?? string.Empty : string.Empty;
        if (!IsValidKey(key))
        {
            await ProblemWriter.WriteAsync(context, ProblemTypes.BadRequest,
                $"{HeaderName} must be one header of 1 to {MaxKeyLength} printable ASCII characters.");
            return;
        }

        var principal = caller.PrincipalId;
        var fingerprint = await FingerprintAsync(context);
        var claim = await store.ClaimAsync(principal, key, fingerprint, context.RequestAborted);
        switch (claim.Outcome)
        {
            case IdempotencyClaimOutcome.Replay:
                await ReplayAsync(context, claim.Response!);
                return;
            case IdempotencyClaimOutcome.DifferentRequest:
                await ProblemWriter.WriteAsync(context, ProblemTypes.IdempotencyKeyReused,
                    $"This {HeaderName} was used with a different request; use a new key for a new request.");
                return;
            case IdempotencyClaimOutcome.InFlight:
                context.Response.Headers.RetryAfter = "1";
                await ProblemWriter.WriteAsync(context, ProblemTypes.IdempotencyKeyInUse,
                    $"A request with this {HeaderName} is still being processed; retry shortly to get its response.");
                return;
            default:
                await RunAndStoreAsync(context, principal, key, claim.LeaseToken);
                return;
        }
    }

    /// <summary>Runs the endpoint into a buffer, stores the answer, and only then sends it: a client never sees a response that a retry would not replay.</summary>
    private async Task RunAndStoreAsync(HttpContext context, string principal, string key, Guid token)
    {
        var response = context.Response;
        var original = response.Body;
        using var buffer = new MemoryStream();
        response.Body = buffer;
        var stored = false;
        using var renewal = new CancellationTokenSource();
        var renewing = RenewWhileRunningAsync(principal, key, token, renewal.Token);
        try
        {
            await next(context);
            if (response.StatusCode < StatusCodes.Status500InternalServerError)
            {
                var headers = ReplayedHeaders.Where(h => response.Headers.ContainsKey(h)).ToDictionary(h => h, h => response.Headers[h].ToString());
                stored = await store.CompleteAsync(principal, key, token, new StoredResponse(response.StatusCode, headers, buffer.ToArray()), CancellationToken.None);
                if (!stored)
                {
                    LogLeaseLost(logger, principal);
                }
            }
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
            response.Body = original;
            if (!stored)
            {
                await store.ReleaseAsync(principal, key, token, CancellationToken.None);
            }
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    private async Task RenewWhileRunningAsync(string principal, string key, Guid token, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(options.Lease / 3);
            while (await timer.WaitForNextTickAsync(cancellationToken) && await store.RenewAsync(principal, key, token, cancellationToken))
            {
            }
        }
        catch (OperationCanceledException)
        {
            // the request finished
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            LogRenewFailed(logger, ex, principal); // the lease may lapse; completion then stores nothing
        }
    }

    private static async Task ReplayAsync(HttpContext context, StoredResponse stored)
    {
        var response = context.Response;
        response.StatusCode = stored.Status;
        foreach (var (name, value) in stored.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers[ReplayedHeader] = "true";
        response.ContentLength = stored.Body.Length;
        await response.Body.WriteAsync(stored.Body, context.RequestAborted);
    }

    /// <summary>SHA-256 over method, path, query, the workspace asked for and the body (buffered so the endpoint can read it again).</summary>
    private static async Task<byte[]> FingerprintAsync(HttpContext context)
    {
        var request = context.Request;
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var workspace = context.Features.Get<WorkspaceAccess>()?.WorkspaceId.ToString() ?? string.Empty;
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.PathBase}{request.Path}\n{request.QueryString}\n{workspace}\n"));
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            hash.AppendData(chunk, 0, read);
        }

        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }

    private static bool IsValidKey(string key) =>
        key.Length is >= 1 and <= MaxKeyLength && key.All(c => c is >= ' ' and <= '~');

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Idempotency key of {Principal} was no longer held when its request finished; its response was not stored")]
    private static partial void LogLeaseLost(ILogger logger, string principal);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Could not renew the idempotency key lease of {Principal}")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string principal);
}
