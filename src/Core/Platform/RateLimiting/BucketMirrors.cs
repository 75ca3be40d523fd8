using System.Collections.Concurrent;

namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// This instance's copy of each bucket's state as Redis last answered it, plus what it admitted since.
/// A request far from its limit (half the burst left after it, and more than 1% or 10 of the day's calls)
/// is decided here, with no round trip; <see cref="RateLimiter.FlushAsync"/> counts such requests into
/// Redis every <see cref="FlushInterval"/>. Near a limit, or on a copy older than a second, Redis decides,
/// so enforcement stays exact where it matters. Across instances a bucket can run over by at most what the
/// others admitted locally within one flush interval; a crash loses at most one interval of counts.
/// </summary>
public sealed class BucketMirrors
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private const long FreshMs = 1000;
    private const long IdleMs = 60_000;
    private const int MaxBuckets = 100_000;

    private readonly ConcurrentDictionary<string, Mirror> _mirrors = new(StringComparer.Ordinal);

    // Buckets with something to send, so a flush walks those only, not every bucket every 50 ms.
    private readonly ConcurrentQueue<string> _dirty = new();
    private long _sweptAt;

    public bool TryAdmit(RatePolicy? policy, string bucketKey, DailyCounter? counter, long now, out RateDecision decision)
    {
        decision = default;
        if (!_mirrors.TryGetValue(bucketKey, out var mirror))
        {
            return false;
        }

        lock (mirror.Gate)
        {
            if (now - mirror.SyncedAt > FreshMs || !Same(mirror.Policy, policy) || mirror.Counter?.Key != counter?.Key)
            {
                return false;
            }

            var tat = mirror.Tat;
            var remaining = 0;
            var reset = 0.0;
            if (policy is not null)
            {
                var rate = Gcra.Evaluate(mirror.Tat, now, policy.IntervalMs, policy.Burst);
                if (!rate.Allowed || rate.Remaining < policy.Burst / 2)
                {
                    return false;
                }

                (tat, remaining, reset) = (rate.NewTat, rate.Remaining, rate.ResetMs);
            }

            if (counter is not null && (mirror.CounterValue < 0 || counter.Limit - mirror.CounterValue <= Math.Max(10, counter.Limit / 100)))
            {
                return false;
            }

            mirror.Tat = tat;
            if (mirror.Pending == 0 && mirror.PendingCount == 0)
            {
                _dirty.Enqueue(bucketKey);
            }

            if (policy is not null)
            {
                mirror.Pending++;
            }

            var value = -1L;
            if (counter is not null)
            {
                value = ++mirror.CounterValue;
                mirror.PendingCount++;
            }

            decision = new RateDecision(RateOutcome.Allowed, remaining, TimeSpan.FromMilliseconds(Math.Ceiling(reset)), TimeSpan.Zero, value, Local: false);
            return true;
        }
    }

    /// <summary>Takes what the bucket admitted since it last told Redis, to send with the next call.</summary>
    public (int Pending, long PendingCount) TakePending(string bucketKey)
    {
        if (!_mirrors.TryGetValue(bucketKey, out var mirror))
        {
            return (0, 0);
        }

        lock (mirror.Gate)
        {
            var taken = (mirror.Pending, mirror.PendingCount);
            (mirror.Pending, mirror.PendingCount) = (0, 0);
            return taken;
        }
    }

    /// <summary>Records Redis's answer at <paramref name="now"/>; what was admitted here meanwhile stays on top of it.</summary>
    public void Observe(RatePolicy? policy, string bucketKey, DailyCounter? counter, long now, RateDecision decision)
    {
        if (decision.Local || (!_mirrors.ContainsKey(bucketKey) && _mirrors.Count >= MaxBuckets))
        {
            return;
        }

        var mirror = _mirrors.GetOrAdd(bucketKey, _ => new Mirror());
        lock (mirror.Gate)
        {
            var policyChanged = !Same(mirror.Policy, policy);
            mirror.Policy = policy;
            mirror.Counter = counter;
            mirror.Tat = now + decision.ResetAfter.TotalMilliseconds + (policy is null || policyChanged ? 0 : mirror.Pending * policy.IntervalMs);
            if (decision.CounterValue >= 0)
            {
                mirror.CounterValue = decision.CounterValue + mirror.PendingCount;
            }
            else if (counter is null || decision.Outcome == RateOutcome.CounterMissing)
            {
                mirror.CounterValue = -1;
            }

            mirror.SyncedAt = now;
        }
    }

    /// <summary>Buckets with something to send (taken now); every 10 s, idle ones are dropped too.</summary>
    public IReadOnlyList<PendingFlush> Due(long now)
    {
        var due = new List<PendingFlush>();
        var count = _dirty.Count;
        while (count-- > 0 && _dirty.TryDequeue(out var key))
        {
            if (!_mirrors.TryGetValue(key, out var mirror))
            {
                continue;
            }

            lock (mirror.Gate)
            {
                if (mirror.Pending > 0 || mirror.PendingCount > 0)
                {
                    due.Add(new PendingFlush(key, mirror.Policy, mirror.Counter, mirror.Pending, mirror.PendingCount));
                    (mirror.Pending, mirror.PendingCount) = (0, 0);
                }
            }
        }

        if (now - _sweptAt > 10_000)
        {
            _sweptAt = now;
            foreach (var (key, mirror) in _mirrors)
            {
                lock (mirror.Gate)
                {
                    if (mirror.Pending == 0 && mirror.PendingCount == 0 && now - mirror.SyncedAt > IdleMs)
                    {
                        _mirrors.TryRemove(key, out _);
                    }
                }
            }
        }

        return due;
    }

    public void Forget(string bucketKey) => _mirrors.TryRemove(bucketKey, out _);

    private static bool Same(RatePolicy? a, RatePolicy? b) =>
        a is null ? b is null : b is not null && a.Name == b.Name && a.Burst == b.Burst && a.IntervalMs.Equals(b.IntervalMs);

    public sealed record PendingFlush(string BucketKey, RatePolicy? Policy, DailyCounter? Counter, int Pending, long PendingCount);

    private sealed class Mirror
    {
        public readonly Lock Gate = new();
        public RatePolicy? Policy;
        public DailyCounter? Counter;
        public double Tat;
        public long CounterValue = -1;
        public long SyncedAt;
        public int Pending;
        public long PendingCount;
    }
}
