using System.Collections.Concurrent;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// The same GCRA in process memory, for when Redis is unreachable: limits then hold per instance rather
/// than across instances. Memory is bounded: past <see cref="RateLimitOptions.LocalMaxBuckets"/> buckets,
/// full ones (which carry no state) are dropped, and if that is not enough every bucket is, which errs on
/// the side of letting requests through.
/// </summary>
public sealed class LocalRateLimiter(RateLimitOptions options)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private int _count;

    public int BucketCount => Volatile.Read(ref _count);

    public RateDecision Check(RatePolicy policy, string key, long nowMs)
    {
        if (!_buckets.TryGetValue(key, out var bucket))
        {
            var fresh = new Bucket();
            bucket = _buckets.GetOrAdd(key, fresh);
            if (ReferenceEquals(bucket, fresh) && Interlocked.Increment(ref _count) > options.LocalMaxBuckets)
            {
                Prune(nowMs);
            }
        }

        Gcra.Result result;
        lock (bucket)
        {
            result = Gcra.Evaluate(bucket.Tat, nowMs, policy.IntervalMs, policy.Burst);
            if (result.Allowed)
            {
                bucket.Tat = result.NewTat;
            }
        }

        return new RateDecision(result.Allowed ? RateOutcome.Allowed : RateOutcome.Limited, result.Remaining,
            TimeSpan.FromMilliseconds(result.ResetMs), TimeSpan.FromMilliseconds(result.RetryMs), -1, Local: true);
    }

    private void Prune(long nowMs)
    {
        foreach (var (key, bucket) in _buckets)
        {
            if (Volatile.Read(ref bucket.Tat) <= nowMs && _buckets.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref _count);
            }
        }

        if (Volatile.Read(ref _count) > options.LocalMaxBuckets)
        {
            _buckets.Clear();
            Volatile.Write(ref _count, 0);
        }
    }

    private sealed class Bucket
    {
        public double Tat;
    }
}
