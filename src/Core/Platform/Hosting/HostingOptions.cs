using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>
/// Where the handler listens and what it is. Under the Functions host it listens on
/// 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT; locally on the Functions local port, so URLs match.
/// </summary>
public sealed record HostingOptions(string ListenUrl, string Slot, bool UnderFunctionsHost)
{
    public const string LocalUrl = "http://localhost:7071";

    public static HostingOptions Read(SettingsReader settings)
    {
        var port = settings.WholeNumber("FUNCTIONS_CUSTOMHANDLER_PORT", 0, 1, 65535);
        var explicitUrls = settings.OptionalString("urls");
        var slot = settings.OptionalString("App:Slot") ?? "local";
        return port > 0
            ? new HostingOptions($"http://127.0.0.1:{port}", slot, UnderFunctionsHost: true)
            : new HostingOptions(explicitUrls ?? LocalUrl, slot, UnderFunctionsHost: false);
    }
}
