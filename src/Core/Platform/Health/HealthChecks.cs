using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentCrm.Core.Platform.Health;

/// <summary>Tags that place a check: "ready" checks gate traffic; every check shows in the detailed view.</summary>
public static class HealthTags
{
    public const string Ready = "ready";
}

/// <summary>The pooled data source answers a trivial query within the configured time.</summary>
public sealed class PostgresHealthCheck(PostgresDataSources dataSources, IOptions<HealthOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PostgresTimeout);
        try
        {
            await using var command = dataSources.Pooled.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy("PostgreSQL answered.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL did not answer within {options.Value.PostgresTimeout.TotalMilliseconds} ms.");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            // The message names the failure (refused, auth, timeout) without the connection string.
            return HealthCheckResult.Unhealthy($"PostgreSQL is unreachable: {ex.Message}");
        }
    }
}

/// <summary>
/// The database carries every migration this build expects, unedited. Once that holds it holds for good
/// (migrations only ever add), so after the first success the check costs nothing.
/// </summary>
public sealed class MigrationsHealthCheck(MigrationRunner runner, PostgresDataSources dataSources, MigrationCatalog catalog) : IHealthCheck
{
    private volatile bool _current;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["expectedVersion"] = catalog.LatestVersion };
        if (_current)
        {
            return HealthCheckResult.Healthy("Schema is current.", data);
        }

        try
        {
            var state = await runner.InspectAsync(dataSources.Pooled, cancellationToken);
            data["databaseVersion"] = state.DatabaseVersion;
            if (state.Edited.Count > 0)
            {
                return HealthCheckResult.Unhealthy($"Applied migrations were edited: {string.Join(", ", state.Edited)}.", data: data);
            }

            if (state.Pending.Count > 0)
            {
                return HealthCheckResult.Unhealthy($"Migrations pending: {string.Join(", ", state.Pending)}. Run `migrate`.", data: data);
            }

            _current = true;
            return HealthCheckResult.Healthy("Schema is current.", data);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Could not read schema_migrations: {ex.Message}", data: data);
        }
    }
}

/// <summary>Every registered background loop has beaten recently; with background work switched off there is nothing to check.</summary>
public sealed class BackgroundLoopsHealthCheck(BackgroundLoopMonitor monitor, IOptions<BackgroundOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Background work is switched off on this slot (Background__Enabled=false)."));
        }

        var loops = monitor.Snapshot();
        var data = loops.ToDictionary(l => l.Name, l => (object)new { alive = l.Alive, silentForMs = (long)l.SilentFor.TotalMilliseconds });
        var dead = loops.Where(l => !l.Alive).Select(l => l.Name).ToList();
        return Task.FromResult(dead.Count == 0
            ? HealthCheckResult.Healthy(loops.Count == 0 ? "No background loops registered." : $"{loops.Count} loop(s) alive.", data)
            : HealthCheckResult.Unhealthy($"Loops silent too long: {string.Join(", ", dead)}.", data: data));
    }
}

/// <summary>Fails from the moment shutdown begins, so no new traffic is routed to a stopping instance.</summary>
public sealed class ShutdownHealthCheck(ShutdownState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsStopping ? HealthCheckResult.Unhealthy("Shutting down.") : HealthCheckResult.Healthy("Running."));
}
