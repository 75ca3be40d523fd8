using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentCrm.Core.Platform.Data;

/// <summary>
/// Local mode: migrate before serving. In Azure this is off and the deploy runs `migrate` first, because
/// the host gives the handler 30 s to answer GET / and two slots must not race schema changes.
/// A failure stops start-up with the runner's message.
/// </summary>
public sealed class StartupMigrationService(MigrationRunner runner, IOptions<MigrationOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.RunOnStart)
        {
            await runner.MigrateAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
