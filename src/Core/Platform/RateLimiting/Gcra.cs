namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// The generic cell rate algorithm on a "theoretical arrival time" (TAT) in milliseconds: a request is
/// allowed when, with one more interval added, the TAT stays within burst × interval of now. The Redis
/// script (<see cref="RateLimiter"/>) does the same arithmetic; this copy serves the in-process fallback.
/// </summary>
internal static class Gcra
{
    // Guards floor() against 8.999999 where the arithmetic means 9.
    private const double Epsilon = 1e-6;

    public readonly record struct Result(bool Allowed, double NewTat, int Remaining, double ResetMs, double RetryMs);

    public static Result Evaluate(double tat, double now, double interval, int burst)
    {
        if (tat < now)
        {
            tat = now;
        }

        var capacity = burst * interval;
        var next = tat + interval;
        if (next - now > capacity + Epsilon)
        {
            return new Result(false, tat, 0, tat - now, next - now - capacity);
        }

        return new Result(true, next, (int)Math.Floor(((capacity - (next - now)) / interval) + Epsilon), next - now, 0);
    }
}
