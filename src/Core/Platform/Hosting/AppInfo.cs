using System.Reflection;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>
/// What is running where: the deploy workflow waits until a slot reports its commit, and operators read
/// the instance and uptime from the detailed health view.
/// </summary>
public sealed class AppInfo(HostingOptions hosting, string environment, TimeProvider time)
{
    private static readonly string InformationalVersion =
        typeof(AppInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public string Version { get; } = InformationalVersion.Split('+')[0];

    /// <summary>The git commit the SDK stamps after '+' in the informational version; AGENTCRM_COMMIT overrides.</summary>
    public string Commit { get; } = System.Environment.GetEnvironmentVariable("AGENTCRM_COMMIT")
        ?? (InformationalVersion.Contains('+', StringComparison.Ordinal) ? InformationalVersion.Split('+')[1] : "unknown");

    public string Environment { get; } = environment;

    public string Slot { get; } = hosting.Slot;

    public string Instance { get; } = System.Environment.GetEnvironmentVariable("WEBSITE_INSTANCE_ID") is { Length: > 0 } id
        ? id[..Math.Min(12, id.Length)]
        : $"{System.Environment.MachineName}:{System.Environment.ProcessId}";

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();
}
