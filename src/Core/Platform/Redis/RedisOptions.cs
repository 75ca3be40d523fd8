using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// Where Redis is and how to talk to it. <see cref="Endpoint"/> is null when no Redis is configured: the
/// app then runs with its in-process fallbacks (L1 only, local rate limits) and health says degraded.
/// </summary>
public sealed record RedisOptions(
    RedisEndpoint? Endpoint,
    string KeyPrefix,
    TimeSpan CommandTimeout,
    TimeSpan ConnectTimeout,
    int MaxReplyBytes,
    TimeSpan ReconnectMin,
    TimeSpan ReconnectMax,
    bool UseManagedIdentity,
    string? ManagedIdentityClientId,
    Uri? IdentityEndpoint = null,
    string? IdentityHeader = null)
{
    internal const string Example = "rediss://:<secret>@agentcrm.westeurope.redis.azure.net:10000";

    public static RedisOptions Read(SettingsReader settings, string environmentName, string slot)
    {
        var url = settings.OptionalString("Redis:Url");
        var endpoint = url is null ? null : RedisEndpoint.TryParse(url, out var parsed, out var problem) ? parsed : Report(settings, problem);
        var prefix = settings.OptionalString("Redis:KeyPrefix") ?? $"agentcrm:{environmentName.ToLowerInvariant()}:{slot.ToLowerInvariant()}:";
        var useManagedIdentity = settings.Bool("Redis:UseManagedIdentity", false);
        if (useManagedIdentity && endpoint is { Password: not null })
        {
            settings.Report("Redis:UseManagedIdentity", "is true but Redis:Url carries a password: use one or the other", "false");
        }

        Uri? identityEndpoint = null;
        string? identityHeader = null;
        if (useManagedIdentity)
        {
            // Set by App Service / Functions when the app has a managed identity.
            identityEndpoint = settings.OptionalAbsoluteUri("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token");
            identityHeader = settings.OptionalString("IDENTITY_HEADER");
            if (identityEndpoint is null || identityHeader is null)
            {
                settings.Report("Redis:UseManagedIdentity", "is true but IDENTITY_ENDPOINT and IDENTITY_HEADER are not both set (does the app have a managed identity?)", "false");
            }
        }

        var min = settings.WholeNumber("Redis:ReconnectMinMs", 100, 10, 60_000);
        var max = settings.WholeNumber("Redis:ReconnectMaxMs", 2_000, 10, 300_000);
        if (max < min)
        {
            settings.Report("Redis:ReconnectMaxMs", $"must be at least Redis:ReconnectMinMs ({min})", "2000");
        }

        return new RedisOptions(
            endpoint,
            prefix,
            TimeSpan.FromMilliseconds(settings.WholeNumber("Redis:CommandTimeoutMs", 1_000, 10, 60_000)),
            TimeSpan.FromMilliseconds(settings.WholeNumber("Redis:ConnectTimeoutMs", 2_000, 10, 60_000)),
            settings.WholeNumber("Redis:MaxReplyBytes", 16 * 1024 * 1024, 1024, 512 * 1024 * 1024),
            TimeSpan.FromMilliseconds(min),
            TimeSpan.FromMilliseconds(max),
            useManagedIdentity,
            settings.OptionalString("Redis:ManagedIdentityClientId"),
            identityEndpoint,
            identityHeader);
    }

    private static RedisEndpoint? Report(SettingsReader settings, string problem)
    {
        // The URL may hold a password: describe the fault, never echo the value.
        settings.Report("Redis:Url", problem, Example);
        return null;
    }
}

/// <summary>A parsed redis:// or rediss:// (TLS) URL: host, port, optional user and password, database.</summary>
public sealed record RedisEndpoint(string Host, int Port, bool Tls, string? User, string? Password, int Database)
{
    public static bool TryParse(string url, out RedisEndpoint endpoint, out string problem)
    {
        endpoint = null!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "redis" && uri.Scheme != "rediss") || string.IsNullOrEmpty(uri.Host))
        {
            problem = "must be a redis:// or rediss:// URL with a host";
            return false;
        }

        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            user = parts[0].Length > 0 ? Uri.UnescapeDataString(parts[0]) : null;
            password = parts.Length > 1 && parts[1].Length > 0 ? Uri.UnescapeDataString(parts[1]) : null;
            if (parts.Length == 1)
            {
                // redis://secret@host is the common short form: a lone user-info part is the password.
                (user, password) = (null, user);
            }
        }

        var database = 0;
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0 && (!int.TryParse(path, out database) || database < 0 || database > 15))
        {
            problem = "names a database that is not a number from 0 to 15";
            return false;
        }

        endpoint = new RedisEndpoint(uri.Host, uri.IsDefaultPort || uri.Port <= 0 ? 6379 : uri.Port, uri.Scheme == "rediss", user, password, database);
        problem = string.Empty;
        return true;
    }

    /// <summary>For logs and health: no password.</summary>
    public override string ToString() => $"{(Tls ? "rediss" : "redis")}://{Host}:{Port}/{Database}";
}
