using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Hosting;

/// <summary>
/// Idempotency keys: how long a completed response is replayed, and the in-flight lease (renewed while the
/// request runs) after which a key whose holder was killed may be claimed again.
/// </summary>
public sealed record IdempotencyOptions(TimeSpan Retention, TimeSpan Lease)
{
    public static IdempotencyOptions Read(SettingsReader settings) => new(
        TimeSpan.FromHours(settings.WholeNumber("Idempotency:RetentionHours", 24, 1, 24 * 30)),
        TimeSpan.FromSeconds(settings.WholeNumber("Idempotency:LeaseSeconds", 60, 3, 600)));
}
