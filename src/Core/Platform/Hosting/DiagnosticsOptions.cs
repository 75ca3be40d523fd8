using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>
/// Test-only endpoints (a slow request, a thrown exception) used by the process-level tests of
/// shutdown and error handling. Refused in Production.
/// </summary>
public sealed record DiagnosticsOptions(bool TestEndpoints)
{
    public static DiagnosticsOptions Read(SettingsReader settings, bool isProduction)
    {
        var enabled = settings.Bool("Diagnostics:TestEndpoints", false);
        if (enabled && isProduction)
        {
            settings.Report("Diagnostics:TestEndpoints", "must not be true in the Production environment", "false");
        }

        return new DiagnosticsOptions(enabled);
    }
}
