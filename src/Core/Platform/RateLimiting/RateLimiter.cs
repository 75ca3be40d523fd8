using System.Diagnostics.Metrics;
using System.Globalization;
using AgentCrm.Core.Platform.Observability;
using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// One Redis round trip per request (DESIGN.md §6): a script checks the GCRA bucket and, only when the
/// request is within the rate, the daily counter too, and counts the request in both. "Now" comes from
/// <see cref="TimeProvider"/>, so every instance (and every test) decides on the same clock arithmetic.
/// When Redis is unreachable the decision is made in process (<see cref="LocalRateLimiter"/>): the rate
/// still holds, per instance; daily counters are then neither checked nor counted. After a failure Redis
/// is not asked again for <see cref="RetryRedisAfter"/>, so a dead server costs a request at most once a
/// second; a disconnected client fails fast anyway.
/// </summary>
public sealed partial class RateLimiter(IRedisClient redis, LocalRateLimiter local, BucketMirrors mirrors, TimeProvider time, ILogger<RateLimiter> logger)
{
    public static readonly TimeSpan RetryRedisAfter = TimeSpan.FromSeconds(1);

    private static readonly Counter<long> LocalDecisions = Telemetry.Meter.CreateCounter<long>(
        "agentcrm.ratelimit.local_decisions", description: "Rate-limit decisions made in process because Redis was unreachable");

    // KEYS[1] the bucket (unused when ARGV[2] is 0), KEYS[2] the daily counter (optional).
    // ARGV: now ms, interval ms (0: no rate), burst, counter limit, counter TTL s, counter seed (-1: none),
    // requests admitted in process since the last call (BucketMirrors) to count first, their daily counter
    // increments, and 1 to decide this request or 0 only to count those.
    // Returns {outcome, remaining, reset ms, retry ms, counter}: outcome 1 allowed, 0 limited, 2 counter
    // exhausted, 3 counter missing (see RateOutcome); this request writes nothing unless the outcome is 1.
    internal static readonly RedisScript Script = new("""
        local now = tonumber(ARGV[1])
        local interval = tonumber(ARGV[2])
        local pending = tonumber(ARGV[7]) or 0
        local pendingCount = tonumber(ARGV[8]) or 0
        local remaining, reset, tat, capacity = 0, 0, now, 0
        if interval > 0 then
          capacity = tonumber(ARGV[3]) * interval
          tat = tonumber(redis.call('GET', KEYS[1])) or now
          if tat < now then tat = now end
          if pending > 0 then
            tat = tat + pending * interval
            redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
          end
        end
        local count = -1
        if #KEYS > 1 and pendingCount > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
          count = redis.call('INCRBY', KEYS[2], pendingCount)
        end
        if ARGV[9] == '0' then
          if interval > 0 then
            remaining = math.max(0, math.floor((capacity - (tat - now)) / interval + 0.000001))
            reset = math.ceil(tat - now)
          end
          return {1, remaining, reset, 0, count}
        end
        if interval > 0 then
          if tat + interval - now > capacity + 0.000001 then
            return {0, 0, math.ceil(tat - now), math.ceil(tat + interval - now - capacity), -1}
          end
          remaining = math.floor((capacity - (tat - now)) / interval + 0.000001)
          reset = math.ceil(tat - now)
        end
        count = -1
        if #KEYS > 1 then
          local current = tonumber(redis.call('GET', KEYS[2]))
          if not current then
            current = tonumber(ARGV[6])
            if current < 0 then return {3, remaining, reset, 0, -1} end
            redis.call('SET', KEYS[2], current, 'EX', ARGV[5])
          end
          if current >= tonumber(ARGV[4]) then return {2, remaining, reset, 0, current} end
          count = redis.call('INCR', KEYS[2])
        end
        if interval > 0 then
          -- At least 1 ms: an interval below a millisecond's float resolution at epoch scale rounds to 0 here.
          redis.call('SET', KEYS[1], string.format('%.3f', tat + interval), 'PX', math.max(1, math.ceil(tat + interval - now)))
          return {1, remaining - 1, math.ceil(tat + interval - now), 0, count}
        end
        return {1, 0, 0, 0, count}
        """);

    private long _redisRetryAtMs;
    private long _lastLocalAtMs = long.MinValue;
    private int _usingLocal;

    /// <summary>When the last decision was made in process (null if never), for the health check.</summary>
    public DateTimeOffset? LastLocalDecisionAt =>
        Volatile.Read(ref _lastLocalAtMs) is var at and > long.MinValue ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;

    /// <summary>
    /// Checks <paramref name="policy"/> on the bucket <paramref name="bucketKey"/> (no rate check when null)
    /// and, within the rate, <paramref name="counter"/>. Keys are Redis keys without the environment prefix;
    /// with both given they should share a hash tag, so the script's keys live in one cluster slot.
    /// </summary>
    public async ValueTask<RateDecision> CheckAsync(RatePolicy? policy, string bucketKey, DailyCounter? counter, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (redis.IsConfigured && redis.IsConnected && mirrors.TryAdmit(policy, bucketKey, counter, now, out var admitted))
        {
            return admitted; // far from the limit: decided on the bucket's mirror, counted to Redis by the next flush
        }

        if (redis.IsConfigured && (redis.IsConnected || now >= Volatile.Read(ref _redisRetryAtMs)))
        {
            try
            {
                var (pending, pendingCount) = mirrors.TakePending(bucketKey);
                var decision = Parse(await redis.EvalAsync(Script, Keys(bucketKey, counter), Args(policy, counter, now, pending, pendingCount, decide: true), cancellationToken));
                mirrors.Observe(policy, bucketKey, counter, now, decision);
                if (Interlocked.Exchange(ref _usingLocal, 0) == 1)
                {
                    LogRedisBack(logger);
                }

                return decision;
            }
            catch (RedisException ex)
            {
                Volatile.Write(ref _redisRetryAtMs, now + (long)RetryRedisAfter.TotalMilliseconds);
                if (Interlocked.Exchange(ref _usingLocal, 1) == 0)
                {
                    LogFallingBack(logger, ex);
                }
            }
        }
        else if (Interlocked.Exchange(ref _usingLocal, 1) == 0)
        {
            LogFallingBack(logger, null);
        }

        Volatile.Write(ref _lastLocalAtMs, now);
        LocalDecisions.Add(1);
        return policy is null
            ? new RateDecision(RateOutcome.Allowed, 0, TimeSpan.Zero, TimeSpan.Zero, -1, Local: true)
            : local.Check(policy, bucketKey, now);
    }

    private static string[] Keys(string bucketKey, DailyCounter? counter) => counter is null ? [bucketKey] : [bucketKey, counter.Key];

    private static RedisArg[] Args(RatePolicy? policy, DailyCounter? counter, long now, int pending, long pendingCount, bool decide) =>
    [
        now,
        policy is null ? "0" : policy.IntervalMs.ToString("R", CultureInfo.InvariantCulture),
        policy?.Burst ?? 0,
        counter?.Limit ?? 0,
        Math.Max(1, (long)Math.Ceiling(counter?.Ttl.TotalSeconds ?? 1)),
        counter?.Seed ?? -1,
        pending,
        pendingCount,
        decide ? 1 : 0,
    ];

    /// <summary>
    /// Sends what buckets admitted in process since their last call, one script call per bucket (pipelined
    /// on the connection). Run every <see cref="BucketMirrors.FlushInterval"/>; what a crash loses is bounded by it.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var due = mirrors.Due(time.GetUtcNow().ToUnixTimeMilliseconds());
        if (due.Count == 0)
        {
            return;
        }

        await Task.WhenAll(due.Select(async flush =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            try
            {
                var reply = Parse(await redis.EvalAsync(Script, Keys(flush.BucketKey, flush.Counter),
                    Args(flush.Policy, flush.Counter, now, flush.Pending, flush.PendingCount, decide: false), cancellationToken));
                mirrors.Observe(flush.Policy, flush.BucketKey, flush.Counter, now, reply);
            }
            catch (RedisException)
            {
                mirrors.Forget(flush.BucketKey); // lost with Redis; the next request decides there (or locally) afresh
            }
        }));
    }

    private static RateDecision Parse(RedisReply reply)
    {
        var items = reply.AsArray();
        if (items.Count != 5)
        {
            throw new RedisProtocolException($"The rate-limit script answered {items.Count} values, not 5.");
        }

        var outcome = items[0].AsInteger() switch
        {
            1 => RateOutcome.Allowed,
            0 => RateOutcome.Limited,
            2 => RateOutcome.CounterExhausted,
            3 => RateOutcome.CounterMissing,
            var other => throw new RedisProtocolException($"The rate-limit script answered outcome {other}."),
        };
        return new RateDecision(outcome, (int)Math.Max(0, items[1].AsInteger()), TimeSpan.FromMilliseconds(items[2].AsInteger()),
            TimeSpan.FromMilliseconds(items[3].AsInteger()), items[4].AsInteger(), Local: false);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Redis is unreachable: rate limits are enforced in process, per instance, and daily quotas are not counted")]
    private static partial void LogFallingBack(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Redis is reachable again: rate limits and quotas are shared again")]
    private static partial void LogRedisBack(ILogger logger);
}
