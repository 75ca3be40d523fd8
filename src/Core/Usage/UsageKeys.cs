using System.Globalization;

namespace AgentCrm.Core.Usage;

/// <summary>
/// Redis keys of traffic control (the client adds the environment prefix), and the UTC day they count.
/// A workspace's buckets and its day counter share the hash tag <c>{ws:ID}</c>, so the one script that
/// touches both stays within one cluster slot.
/// </summary>
public static class UsageKeys
{
    /// <summary>How long a day counter outlives its day, so the flush after midnight still finds it.</summary>
    public static readonly TimeSpan CounterGrace = TimeSpan.FromDays(1);

    public static string Day(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static DateOnly Date(string day) => DateOnly.ParseExact(day, "yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The next UTC midnight: when daily quotas reset.</summary>
    public static DateTimeOffset NextMidnight(DateTimeOffset now) => new(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);

    public static TimeSpan CounterTtl(DateTimeOffset now) => NextMidnight(now) - now + CounterGrace;

    public static string ApiCalls(Guid workspaceId, string day) => $"usage:{{ws:{workspaceId}}}:calls:{day}";

    /// <summary>The workspaces with an API-call counter on <paramref name="day"/>: what the flush reads.</summary>
    public static string ActiveWorkspaces(string day) => $"usage:active:{day}";

    public static string WorkspaceBucket(Guid workspaceId, string policy, string principal) => $"rl:{{ws:{workspaceId}}}:{policy}:{principal}";

    public static string PrincipalBucket(string principal, string policy) => $"rl:{{{principal}}}:{policy}";

    public static string AddressBucket(string address, string policy) => $"rl:{{ip:{address}}}:{policy}";
}
