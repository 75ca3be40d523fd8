namespace AgentCrm.Core.Usage;

/// <summary>One figure of <c>GET /api/usage</c>: what is used against the limit, and when it resets (null: it does not, it is a maximum).</summary>
public sealed record UsageFigure(long Used, long Limit, long Remaining, DateTimeOffset? ResetsAt)
{
    public static UsageFigure Of(long used, long limit, DateTimeOffset? resetsAt) => new(used, limit, Math.Max(0, limit - used), resetsAt);
}

/// <summary>Today's usage of a workspace against its tier (UTC day). <see cref="Enforced"/> is false when quotas are off.</summary>
public sealed record UsageReport(
    Guid WorkspaceId, string Tier, DateOnly Day, bool Enforced, UsageFigure ApiCalls, UsageFigure AiTokens, UsageFigure Contacts, UsageFigure Campaigns);
