namespace AgentCrm.Core.Platform.RateLimiting;

/// <summary>
/// One rate-limit policy (DESIGN.md §6): <see cref="Limit"/> requests per <see cref="Window"/> at a steady
/// rate, and a bucket of <see cref="Burst"/> requests that an idle client may spend at once. Enforced as a
/// GCRA: one request is earned every <see cref="IntervalMs"/>.
/// </summary>
public sealed record RatePolicy(string Name, int Limit, int Burst, TimeSpan Window)
{
    /// <summary>The milliseconds that earn one request.</summary>
    public double IntervalMs => Window.TotalMilliseconds / Limit;

    /// <summary>The policy for a tier: limit and burst multiplied, never below one.</summary>
    public RatePolicy Scaled(double multiplier) =>
        multiplier == 1.0 ? this : this with { Limit = Scale(Limit, multiplier), Burst = Scale(Burst, multiplier) };

    private static int Scale(int value, double multiplier) => (int)Math.Clamp(Math.Round(value * multiplier), 1, int.MaxValue);
}

/// <summary>The policy names. Routes name theirs in the access table; ai, email and webhook serve later features.</summary>
public static class RatePolicies
{
    public const string Auth = "auth";
    public const string Ai = "ai";
    public const string Email = "email";
    public const string Webhook = "webhook";
    public const string Default = "default";

    /// <summary>Each policy with its per-minute limit by default.</summary>
    public static IReadOnlyList<(string Name, int PerMinute)> Defaults { get; } =
        [(Auth, 10), (Ai, 20), (Email, 50), (Webhook, 1000), (Default, 100)];
}
