using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Workspaces;

namespace AgentCrm.Core.Usage;

/// <summary>What one tier allows (DESIGN.md §6): its rate-limit multiplier and its quotas.</summary>
public sealed record TierPlan(string Tier, double RateMultiplier, int ApiCallsPerDay, int AiTokensPerDay, int MaxContacts, int MaxCampaigns);

/// <summary>
/// Every tier's plan, and whether quotas are enforced at all (<c>Quotas__Enabled</c>). ENTERPRISE is per
/// contract: its defaults are large and every figure is a setting. An unknown tier gets FREE's plan.
/// </summary>
public sealed record TierPlans(bool QuotasEnabled, IReadOnlyDictionary<string, TierPlan> Plans)
{
    private static readonly (string Tier, double Multiplier, int Calls, int Tokens, int Contacts, int Campaigns)[] Defaults =
    [
        (Tiers.Free, 1, 1_000, 50_000, 100, 5),
        (Tiers.Starter, 2, 10_000, 500_000, 1_000, 50),
        (Tiers.Pro, 5, 100_000, 5_000_000, 10_000, 500),
        (Tiers.Enterprise, 10, 10_000_000, 500_000_000, 1_000_000, 10_000),
    ];

    public static TierPlans Read(SettingsReader settings)
    {
        var plans = new Dictionary<string, TierPlan>(StringComparer.Ordinal);
        foreach (var (tier, multiplier, calls, tokens, contacts, campaigns) in Defaults)
        {
            var name = $"{tier[0]}{tier[1..].ToLowerInvariant()}";
            plans[tier] = new TierPlan(
                tier,
                settings.Number($"RateLimits:TierMultipliers:{name}", multiplier, 0.01, 10_000),
                settings.WholeNumber($"Quotas:{name}:ApiCallsPerDay", calls, 1, int.MaxValue),
                settings.WholeNumber($"Quotas:{name}:AiTokensPerDay", tokens, 0, int.MaxValue),
                settings.WholeNumber($"Quotas:{name}:MaxContacts", contacts, 0, int.MaxValue),
                settings.WholeNumber($"Quotas:{name}:MaxCampaigns", campaigns, 0, int.MaxValue));
        }

        return new TierPlans(settings.Bool("Quotas:Enabled", true), plans);
    }

    public TierPlan For(string tier) => Plans.TryGetValue(tier, out var plan) ? plan : Plans[Tiers.Free];

    /// <summary>The most contacts the tier may hold, or null when quotas are off.</summary>
    public int? MaxContacts(string tier) => QuotasEnabled ? For(tier).MaxContacts : null;

    public int? MaxCampaigns(string tier) => QuotasEnabled ? For(tier).MaxCampaigns : null;
}
