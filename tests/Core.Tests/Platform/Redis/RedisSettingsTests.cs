using AgentCrm.Core.Platform.Configuration;
using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.Configuration;

namespace AgentCrm.Core.Tests.Platform.Redis;

public class RedisSettingsTests
{
    [Theory]
    [InlineData("redis://127.0.0.1:6380", "127.0.0.1", 6380, false, null, null, 0)]
    [InlineData("rediss://cache.westeurope.redis.azure.net:10000", "cache.westeurope.redis.azure.net", 10000, true, null, null, 0)]
    [InlineData("redis://:s%40cret@localhost:6379/2", "localhost", 6379, false, null, "s@cret", 2)]
    [InlineData("redis://app:pw@localhost", "localhost", 6379, false, "app", "pw", 0)]
    [InlineData("redis://lonesecret@localhost:1234", "localhost", 1234, false, null, "lonesecret", 0)]
    public void Urls_name_host_port_tls_credentials_and_database(string url, string host, int port, bool tls, string? user, string? password, int database)
    {
        Assert.True(RedisEndpoint.TryParse(url, out var endpoint, out _));
        Assert.Equal(new RedisEndpoint(host, port, tls, user, password, database), endpoint);
        Assert.DoesNotContain(password ?? "\0", endpoint.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void No_url_means_no_redis_and_a_prefix_per_environment_and_slot()
    {
        var options = Read(new() { ["App:Slot"] = "Staging" }, out var reader);
        Assert.Empty(reader.Problems);
        Assert.Null(options.Endpoint);
        Assert.Equal("agentcrm:production:staging:", options.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(1), options.CommandTimeout);
    }

    [Fact]
    public void Every_bad_redis_setting_is_reported_and_no_password_is_echoed()
    {
        Read(new()
        {
            ["Redis:Url"] = "http://:hunter2@cache:6379",
            ["Redis:CommandTimeoutMs"] = "0",
            ["Redis:ReconnectMinMs"] = "5000",
            ["Redis:ReconnectMaxMs"] = "100",
        }, out var reader);

        Assert.Equal(["Redis:CommandTimeoutMs", "Redis:ReconnectMaxMs", "Redis:Url"], reader.Problems.Select(p => p.Setting).Order(StringComparer.Ordinal).ToArray());
        Assert.DoesNotContain(reader.Problems, p => p.Problem.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public void Managed_identity_needs_the_platform_endpoint_and_no_password_in_the_url()
    {
        Read(new() { ["Redis:Url"] = "rediss://:pw@cache:10000", ["Redis:UseManagedIdentity"] = "true" }, out var reader);
        Assert.Equal(2, reader.Problems.Count);
        Assert.All(reader.Problems, p => Assert.Equal("Redis:UseManagedIdentity", p.Setting));

        var options = Read(new()
        {
            ["Redis:Url"] = "rediss://cache:10000",
            ["Redis:UseManagedIdentity"] = "true",
            ["IDENTITY_ENDPOINT"] = "http://localhost:42356/msi/token",
            ["IDENTITY_HEADER"] = "secret",
        }, out reader);
        Assert.Empty(reader.Problems);
        Assert.Equal(new Uri("http://localhost:42356/msi/token"), options.IdentityEndpoint);
    }

    private static RedisOptions Read(Dictionary<string, string?> values, out SettingsReader reader)
    {
        reader = new SettingsReader(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        return RedisOptions.Read(reader, "Production", reader.OptionalString("App:Slot") ?? "local");
    }
}
