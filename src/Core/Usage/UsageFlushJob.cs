using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Redis;
using Npgsql;
using NpgsqlTypes;

namespace AgentCrm.Core.Usage;

/// <summary>
/// Copies every workspace's API-call counter of today and yesterday from Redis into <c>usage_daily</c>
/// (see <see cref="ApiCallCounter"/>). Each chunk is one statement that keeps the larger of the stored and
/// the counted total, so it can run any number of times, stop anywhere, and run again.
/// </summary>
public sealed class UsageFlushJob(IRedisClient redis, RateLimiter limiter, PostgresDataSources data, TimeProvider time) : IHousekeepingJob
{
    private const int ChunkSize = 500;

    public string Name => "usage.flush-api-calls";

    public TimeSpan Lease => TimeSpan.FromMinutes(2);

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConfigured)
        {
            return "No Redis is configured: API calls are not counted, nothing to flush.";
        }

        await limiter.FlushAsync(cancellationToken); // this instance's calls counted in process reach Redis first

        var now = time.GetUtcNow();
        var flushed = 0;
        try
        {
            foreach (var day in new[] { UsageKeys.Day(now.AddDays(-1)), UsageKeys.Day(now) })
            {
                flushed += await FlushDayAsync(day, cancellationToken);
            }
        }
        catch (RedisException ex)
        {
            // The counters stay in Redis (or are gone with it): skipping loses nothing a retry would save.
            return $"Redis is unreachable ({ex.Message}): flushed {flushed} counter(s) before it failed; the next run catches up.";
        }

        return $"Flushed {flushed} workspace API-call counter(s).";
    }

    private async Task<int> FlushDayAsync(string day, CancellationToken cancellationToken)
    {
        var members = (await redis.ExecuteAsync("SMEMBERS", [redis.Key(UsageKeys.ActiveWorkspaces(day))], cancellationToken)).AsArray()
            .Select(m => Guid.TryParse(m.AsString(), out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).ToList();
        var flushed = 0;
        foreach (var chunk in members.Chunk(ChunkSize))
        {
            // The client pipelines concurrent commands: one chunk costs about one round trip.
            var values = await Task.WhenAll(chunk.Select(id => redis.GetAsync(UsageKeys.ApiCalls(id, day), cancellationToken)));
            var workspaces = new List<Guid>(chunk.Length);
            var calls = new List<long>(chunk.Length);
            for (var i = 0; i < chunk.Length; i++)
            {
                if (values[i] is { } raw && long.TryParse(System.Text.Encoding.ASCII.GetString(raw), out var count))
                {
                    workspaces.Add(chunk[i]);
                    calls.Add(count);
                }
            }

            if (workspaces.Count == 0)
            {
                continue;
            }

            await using var command = data.Pooled.CreateCommand("SELECT app.flush_api_calls($1, $2, $3)");
            command.Parameters.Add(new NpgsqlParameter { Value = UsageKeys.Date(day) });
            command.Parameters.Add(new NpgsqlParameter { Value = workspaces.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            command.Parameters.Add(new NpgsqlParameter { Value = calls.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await command.ExecuteNonQueryAsync(cancellationToken);
            flushed += workspaces.Count;
        }

        return flushed;
    }
}
