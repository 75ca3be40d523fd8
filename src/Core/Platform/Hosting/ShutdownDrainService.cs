using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>
/// On SIGTERM: readiness answers 503 at once, then the server keeps serving for the drain period so a
/// load balancer sees the 503 and stops sending, then Kestrel stops and waits (up to the shutdown
/// timeout) for in-flight requests. StoppingAsync runs before the server's own StopAsync.
/// </summary>
public sealed partial class ShutdownDrainService(ShutdownState state, IOptions<HttpOptions> options, TimeProvider time, ILogger<ShutdownDrainService> logger)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        state.MarkStopping();
        var drain = options.Value.ShutdownDrain;
        LogDraining(logger, drain.TotalSeconds);
        if (drain > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(drain, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The shutdown timeout ran out first: stop now.
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Shutdown requested: readiness now fails; draining for {DrainSeconds} s before the server stops")]
    private static partial void LogDraining(ILogger logger, double drainSeconds);
}
