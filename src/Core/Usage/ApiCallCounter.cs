using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Redis;

namespace AgentCrm.Core.Usage;

/// <summary>
/// A workspace's API calls per UTC day. The live count is a Redis counter that the edge's script
/// increments (<see cref="TrafficGate"/>); <see cref="UsageFlushJob"/> copies each counter's total into
/// <c>usage_daily</c>. Totals, not deltas: a flush that runs twice or dies half-way writes the same totals
/// again, so nothing is counted twice, and a counter that Redis lost is seeded from the last flushed total,
/// so a Redis loss costs at most the calls since the last flush (one Maintenance interval, 5 minutes).
/// </summary>
public sealed class ApiCallCounter(IRedisClient redis, PostgresDataSources data)
{
    /// <summary>Indexes the workspace for the flush, then reads the value a missing counter starts from.</summary>
    public async Task<long> SeedAsync(Guid workspaceId, string day, TimeSpan ttl, CancellationToken cancellationToken)
    {
        // Indexed before the counter exists, so no counter the flush should see is ever missing from the index.
        var index = redis.Key(UsageKeys.ActiveWorkspaces(day));
        await redis.ExecuteAsync("SADD", [index, workspaceId.ToString()], cancellationToken);
        await redis.ExecuteAsync("EXPIRE", [index, (long)Math.Ceiling(ttl.TotalSeconds)], cancellationToken);
        return await FlushedAsync(workspaceId, day, cancellationToken);
    }

    /// <summary>Today's count: Redis when it has one, else the last flushed total.</summary>
    public async Task<long> CurrentAsync(Guid workspaceId, string day, CancellationToken cancellationToken)
    {
        try
        {
            if (redis.IsConfigured && await redis.GetAsync(UsageKeys.ApiCalls(workspaceId, day), cancellationToken) is { } value
                && long.TryParse(System.Text.Encoding.ASCII.GetString(value), out var count))
            {
                return count;
            }
        }
        catch (RedisException)
        {
            // the flushed total is the best there is
        }

        return await FlushedAsync(workspaceId, day, cancellationToken);
    }

    public async Task<long> FlushedAsync(Guid workspaceId, string day, CancellationToken cancellationToken)
    {
        await using var command = data.Pooled.CreateCommand("SELECT app.api_calls_on($1, $2)").Args(workspaceId, UsageKeys.Date(day));
        return await command.ExecuteScalarAsync(cancellationToken) is long flushed ? flushed : 0;
    }
}
