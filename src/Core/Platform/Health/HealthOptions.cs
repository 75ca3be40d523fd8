using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Health;

public sealed record HealthOptions(TimeSpan PostgresTimeout)
{
    public static HealthOptions Read(SettingsReader settings) =>
        new(TimeSpan.FromMilliseconds(settings.WholeNumber("Health:PostgresTimeoutMs", 2000, 50, 30000)));
}
