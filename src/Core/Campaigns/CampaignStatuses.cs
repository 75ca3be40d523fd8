namespace AgentCrm.Core.Campaigns;

/// <summary>
/// The campaign life cycle: draft → scheduled → sending → completed, with scheduled → draft to
/// unschedule and cancelled reachable from anything not yet finished. Completed and cancelled are final.
/// </summary>
public static class CampaignStatuses
{
    public const string Draft = "draft";
    public const string Scheduled = "scheduled";
    public const string Sending = "sending";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } = [Draft, Scheduled, Sending, Completed, Cancelled];

    private static readonly HashSet<(string From, string To)> Legal =
    [
        (Draft, Scheduled), (Draft, Cancelled),
        (Scheduled, Draft), (Scheduled, Sending), (Scheduled, Cancelled),
        (Sending, Completed), (Sending, Cancelled),
    ];

    public static bool IsValid(string? status) => status is not null && All.Contains(status, StringComparer.Ordinal);

    public static bool CanMove(string from, string to) => Legal.Contains((from, to));

    /// <summary>Content and audience may change only before sending starts.</summary>
    public static bool IsEditable(string status) => status is Draft or Scheduled;
}
