using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>
/// The slot-sticky switch: a staging slot sets Background__Enabled=false so its timers and loops never
/// work production's queues until it is swapped in (DESIGN.md §1).
/// </summary>
public sealed record BackgroundOptions(bool Enabled)
{
    public static BackgroundOptions Read(SettingsReader settings) => new(settings.Bool("Background:Enabled", true));
}
