using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// Counts the requests buckets admitted in process into Redis every <see cref="BucketMirrors.FlushInterval"/>.
/// It runs on every slot, staging too: it only reports this instance's own admissions.
/// </summary>
public sealed partial class RateLimitFlushService(RateLimiter limiter, TimeProvider time, ILogger<RateLimitFlushService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(BucketMirrors.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await limiter.FlushAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    LogFlushFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: what is pending is at most one interval of counts
        }
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Flushing rate-limit counts to Redis failed")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
