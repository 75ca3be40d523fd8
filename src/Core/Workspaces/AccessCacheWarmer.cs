using System.Data.Common;
using System.Diagnostics;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Data;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Workspaces;

/// <summary>
/// Before the app listens, fills L1 with the memberships of users signed in lately (their active
/// workspace) and the keys of those workspaces used lately, so the first requests after a start or a
/// swap need no round trip for access. Bounded by Cache__WarmupMs (at most 2 s): whatever is not done
/// by then is left to the first reads, and a failure only means a cold start.
/// </summary>
public sealed partial class AccessCacheWarmer(
    PostgresDataSources data, AccessCaches caches, CacheBus bus, CachingOptions options, TimeProvider time, ILogger<AccessCacheWarmer> logger) : IHostedService
{
    private const int MaxWorkspaces = 50;
    private const int KeysPerWorkspace = 10;

    private int MaxMemberships => Math.Min(options.L1MaxEntries / 2, 500);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Enabled || options.WarmupBudget <= TimeSpan.Zero)
        {
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.WarmupBudget);
        var started = Stopwatch.GetTimestamp();
        var (memberships, keys) = (0, 0);
        try
        {
            await bus.WhenSynchronizedAsync(deadline.Token);
            var membershipMark = caches.Memberships.InvalidationMark;
            var keyMark = caches.ApiKeys.InvalidationMark;
            var workspaces = new List<Guid>();
            await using (var command = data.Pooled.CreateCommand("""
                SELECT u.active_workspace_id, u.id, m.role, m.tier
                FROM (SELECT user_id, max(issued_at) AS seen FROM refresh_tokens WHERE revoked_at IS NULL AND expires_at > $1
                      GROUP BY user_id ORDER BY seen DESC LIMIT $2) r
                JOIN users u ON u.id = r.user_id
                CROSS JOIN LATERAL app.membership(u.active_workspace_id, u.id) m
                WHERE u.active_workspace_id IS NOT NULL
                """).Args(time.GetUtcNow(), MaxMemberships))
            await using (var reader = await command.ExecuteReaderAsync(deadline.Token))
            {
                while (await reader.ReadAsync(deadline.Token))
                {
                    var workspaceId = reader.GetGuid(0);
                    caches.Memberships.Prime(AccessCaches.MembershipKey(workspaceId, reader.GetGuid(1)), new CachedMembership(reader.GetString(2), reader.GetString(3)), membershipMark);
                    memberships++;
                    if (workspaces.Count < MaxWorkspaces && !workspaces.Contains(workspaceId))
                    {
                        workspaces.Add(workspaceId);
                    }
                }
            }

            foreach (var workspaceId in workspaces)
            {
                keys += await PrimeKeysAsync(workspaceId, keyMark, deadline.Token);
            }

            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogWarmed(logger, memberships, keys, elapsedMs);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogStopped(logger, (long)options.WarmupBudget.TotalMilliseconds, memberships, keys);
        }
        catch (DbException e)
        {
            LogFailed(logger, e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<int> PrimeKeysAsync(Guid workspaceId, long mark, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, null, write: false, cancellationToken);
        await using var batch = session.CreateBatch("""
            SELECT k.id, k.prefix, k.secret_hash, k.scopes, w.tier FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
            WHERE k.workspace_id = $1 AND k.revoked_at IS NULL AND k.last_used_at IS NOT NULL ORDER BY k.last_used_at DESC LIMIT $2
            """, workspaceId, KeysPerWorkspace);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var count = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            caches.ApiKeys.Prime(AccessCaches.ApiKeyKey(reader.GetString(1), reader.GetFieldValue<byte[]>(2)),
                new CachedApiKey(workspaceId, reader.GetGuid(0), reader.GetFieldValue<string[]>(3), reader.GetString(4)), mark);
            count++;
        }

        return count;
    }

    [LoggerMessage(EventId = 7311, Level = LogLevel.Information, Message = "Cache warm-up: {Memberships} memberships and {Keys} API keys in {ElapsedMs} ms")]
    private static partial void LogWarmed(ILogger logger, int memberships, int keys, long elapsedMs);

    [LoggerMessage(EventId = 7312, Level = LogLevel.Information, Message = "Cache warm-up stopped at its {BudgetMs} ms bound after {Memberships} memberships and {Keys} API keys")]
    private static partial void LogStopped(ILogger logger, long budgetMs, int memberships, int keys);

    [LoggerMessage(EventId = 7313, Level = LogLevel.Warning, Message = "Cache warm-up failed ({Reason}); the caches fill as requests come")]
    private static partial void LogFailed(ILogger logger, string reason);
}
