using Microsoft.Extensions.Hosting;

namespace AgentCrm.Core.Platform.Caching;

/// <summary>Starts the invalidation subscription with the app (it retries on its own while Redis is away).</summary>
internal sealed class CacheBusService(CacheBus bus) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        bus.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
