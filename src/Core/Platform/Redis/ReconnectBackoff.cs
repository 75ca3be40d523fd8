namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// Exponential backoff with jitter between reconnect attempts: the n-th failed attempt waits a random
/// time between half and all of min × 2ⁿ (capped at max), so instances that lost Redis together do not
/// come back in lockstep.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan min, TimeSpan max)
{
    private int _failures;

    public void Reset() => _failures = 0;

    public TimeSpan NextDelay()
    {
        var cap = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 20)));
        _failures++;
        return TimeSpan.FromMilliseconds(cap * (0.5 + (Random.Shared.NextDouble() / 2)));
    }
}
