using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>Audit log retention (DESIGN.md §10): rows older than this are pruned, with an anchor kept so the chain still verifies.</summary>
public sealed record AuditOptions(TimeSpan Retention)
{
    public static AuditOptions Read(SettingsReader settings) => new(
        TimeSpan.FromDays(settings.WholeNumber("Audit:RetentionDays", 365, 1, 36_500)));
}
