using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>Request limits and shutdown timing.</summary>
public sealed record HttpOptions(long MaxRequestBodyBytes, TimeSpan ShutdownTimeout, TimeSpan ShutdownDrain)
{
    public static HttpOptions Read(SettingsReader settings) => new(
        settings.WholeNumber("Http:MaxRequestBodyBytes", 1024 * 1024, 1024, 100 * 1024 * 1024),
        // 230 s is the most an HTTP-triggered function may take in Azure; no request can need longer to finish.
        TimeSpan.FromSeconds(settings.WholeNumber("Http:ShutdownTimeoutSeconds", 20, 1, 230)),
        TimeSpan.FromSeconds(settings.WholeNumber("Http:ShutdownDrainSeconds", 2, 0, 60)));
}
