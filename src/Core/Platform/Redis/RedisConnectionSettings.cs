using System.Net.Security;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>What a connection needs to open: where, who, and its limits. Shared by the command and pub/sub connections.</summary>
internal sealed record RedisConnectionSettings(
    RedisEndpoint Endpoint,
    IRedisCredentialProvider Credentials,
    TimeSpan CommandTimeout,
    TimeSpan ConnectTimeout,
    int MaxReplyBytes,
    TimeProvider Time)
{
    /// <summary>Idle connections are PINGed this often, so a dead peer (or an idle-closing load balancer) is noticed.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Tests trust their own certificate authority; production uses the platform's validation.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    public static RedisConnectionSettings From(RedisOptions options, RedisEndpoint endpoint, IRedisCredentialProvider credentials, TimeProvider time) =>
        new(endpoint, credentials, options.CommandTimeout, options.ConnectTimeout, options.MaxReplyBytes, time);

    /// <summary>Null when no Redis is configured; the URL's password unless <paramref name="credentials"/> says otherwise.</summary>
    public static RedisConnectionSettings? ForOptions(RedisOptions options, IRedisCredentialProvider? credentials, TimeProvider time) =>
        options.Endpoint is { } endpoint ? From(options, endpoint, credentials ?? new UrlRedisCredentials(endpoint), time) : null;
}
