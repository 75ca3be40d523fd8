using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Data;

/// <summary>In Azure migrations run as a deploy step (the `migrate` verb); locally they run at start.</summary>
public sealed record MigrationOptions(bool RunOnStart)
{
    public static MigrationOptions Read(SettingsReader settings, bool isDevelopment) =>
        new(settings.Bool("Migrations:RunOnStart", isDevelopment));
}
