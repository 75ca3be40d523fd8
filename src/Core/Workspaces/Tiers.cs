namespace AgentCrm.Core.Workspaces;

/// <summary>Workspace tiers (DESIGN.md §6). Quotas and rate-limit multipliers hang off these names.</summary>
public static class Tiers
{
    public const string Free = "FREE";
    public const string Starter = "STARTER";
    public const string Pro = "PRO";
    public const string Enterprise = "ENTERPRISE";

    public static IReadOnlyList<string> All { get; } = [Free, Starter, Pro, Enterprise];
}
