using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Durable;

/// <summary>
/// Size limits of one execution (research §7.5): crossing a warn limit logs and counts once; crossing a fail
/// limit fails the instance with a readable reason. The inline payload limit itself is
/// <see cref="DurableOptions.MaxPayloadBytes"/>.
/// </summary>
public sealed record DurableLimits(int WarnHistoryEvents, int MaxHistoryEvents, long WarnHistoryBytes, long MaxHistoryBytes, int WarnPayloadBytes)
{
    public static DurableLimits Defaults { get; } = new(10_000, 100_000, 10L * 1024 * 1024, 50L * 1024 * 1024, 256 * 1024);

    public static DurableLimits Read(SettingsReader settings, int maxPayloadBytes)
    {
        // A warning's default never lies above the limit it warns of, so lowering only a limit stays valid.
        var maxEvents = settings.WholeNumber("Durable:MaxHistoryEvents", Defaults.MaxHistoryEvents, 1, 10_000_000);
        var maxBytes = settings.WholeNumber("Durable:MaxHistoryBytes", (int)Defaults.MaxHistoryBytes, 1024, int.MaxValue);
        var limits = new DurableLimits(
            settings.WholeNumber("Durable:WarnHistoryEvents", Math.Min(Defaults.WarnHistoryEvents, maxEvents), 1, 10_000_000),
            maxEvents,
            settings.WholeNumber("Durable:WarnHistoryBytes", (int)Math.Min(Defaults.WarnHistoryBytes, maxBytes), 1024, int.MaxValue),
            maxBytes,
            settings.WholeNumber("Durable:WarnPayloadBytes", Math.Min(Defaults.WarnPayloadBytes, maxPayloadBytes), 1, 64 * 1024 * 1024));

        // A warning that comes after the failure would never be seen.
        if (limits.WarnHistoryEvents > limits.MaxHistoryEvents)
        {
            settings.Report("Durable:WarnHistoryEvents", $"must not exceed Durable:MaxHistoryEvents ({limits.MaxHistoryEvents}), got {limits.WarnHistoryEvents}", "10000");
        }

        if (limits.WarnHistoryBytes > limits.MaxHistoryBytes)
        {
            settings.Report("Durable:WarnHistoryBytes", $"must not exceed Durable:MaxHistoryBytes ({limits.MaxHistoryBytes}), got {limits.WarnHistoryBytes}", "10485760");
        }

        if (limits.WarnPayloadBytes > maxPayloadBytes)
        {
            settings.Report("Durable:WarnPayloadBytes", $"must not exceed Durable:MaxPayloadBytes ({maxPayloadBytes}), got {limits.WarnPayloadBytes}", "262144");
        }

        return limits;
    }
}
