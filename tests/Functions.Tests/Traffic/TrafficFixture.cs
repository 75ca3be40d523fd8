using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Tests.Support;

namespace AgentCrm.Functions.Tests.Traffic;

/// <summary>
/// A migrated database and an app with rate limits and quotas on, on a clock the tests move, so resets
/// are tested without waiting. Tests of one class share it and keep apart by using buckets of their own
/// (another address, user or workspace).
/// </summary>
public class TrafficFixture : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;

    public TestApp App { get; private set; } = null!;

    public TenantSeeder Seed { get; private set; } = null!;

    public FakeTimeProvider Clock { get; } = new();

    protected virtual Dictionary<string, string?> Settings => [];

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(migrate: true);
        var settings = new Dictionary<string, string?> { ["RateLimits:Enabled"] = "true", ["Quotas:Enabled"] = "true" };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        App = await TestApp.StartAsync(Db, settings, builder => builder.Services.AddSingleton<TimeProvider>(Clock));
        Seed = new TenantSeeder(Db, App);
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Db.DisposeAsync();
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null, object? body = null, string? forwardedFor = null)
    {
        var request = TenantSeeder.Request(method, path, token, body);
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        return App.Client.SendAsync(request);
    }

    private static int _addresses;

    /// <summary>An address no other test uses, for anonymous buckets.</summary>
    public static string NewAddress()
    {
        var n = Interlocked.Increment(ref _addresses);
        return $"203.0.{n / 250 % 256}.{(n % 250) + 1}";
    }

    /// <summary>Seconds from the test clock's now to the next UTC midnight, rounded up: when daily quotas reset.</summary>
    public long SecondsToMidnight()
    {
        var now = Clock.GetUtcNow();
        return (long)Math.Ceiling((new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero) - now).TotalSeconds);
    }

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : throw new Xunit.Sdk.XunitException($"No {name} header on {(int)response.StatusCode}.");

    public static bool HasHeader(HttpResponseMessage response, string name) => response.Headers.Contains(name);
}
