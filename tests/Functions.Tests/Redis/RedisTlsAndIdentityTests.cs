using System.Text;
using System.Text.Json;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>rediss:// as Azure Managed Redis serves it (TLS, port 10000 there), and Entra ID tokens as the AUTH password.</summary>
public sealed class RedisTlsAndIdentityTests
{
    [Fact]
    public async Task Tls_connections_carry_commands_and_refuse_an_untrusted_certificate()
    {
        await using var server = await RedisServerProcess.StartAsync(tls: true);
        var options = TestRedis.Options($"rediss://:{server.Password}@localhost:{server.Port}");
        var settings = RedisConnectionSettings.From(options, options.Endpoint!, new UrlRedisCredentials(options.Endpoint!), TimeProvider.System)
            with { CertificateValidation = TestCertificates.TrustOnly(server.CertificateAuthority!) };
        await using (var client = new RedisClient(options, settings, NullLogger<RedisClient>.Instance))
        {
            await client.SetAsync("over-tls", "sealed"u8.ToArray(), TimeSpan.FromMinutes(1));
            Assert.Equal("sealed", Encoding.UTF8.GetString((await client.GetAsync("over-tls"))!));
        }

        // The platform's own validation does not know the test authority: no connection, and a clear reason.
        await using var untrusting = TestRedis.Client(options);
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => untrusting.PingAsync());
        Assert.Contains("Cannot connect to Redis at rediss://localhost", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_managed_identity_token_is_the_password_and_is_renewed_before_it_expires()
    {
        await using var server = await RedisServerProcess.StartAsync();
        const string objectId = "11111111-2222-3333-4444-555555555555";
        var issued = 0;
        await using var identity = await TestApp.StartAsync(null, map: app => app.MapGet("/msi/token", (HttpRequest request) =>
        {
            // The App Service identity endpoint's contract: the secret header, the resource, api-version 2019-08-01.
            if (request.Headers["X-IDENTITY-HEADER"] != "identity-secret" || request.Query["resource"] != ManagedIdentityRedisCredentials.Resource)
            {
                return Results.StatusCode(400);
            }

            var n = Interlocked.Increment(ref issued);
            // Expires in 2 min 2 s: inside the 5-minute reuse margin, so each connect fetches anew, and re-AUTH is due in ~2 s.
            var expires = DateTimeOffset.UtcNow.AddSeconds(122).ToUnixTimeSeconds();
            return Results.Json(new Dictionary<string, string> { ["access_token"] = Token(objectId, n), ["expires_on"] = expires.ToString() });
        }));

        // The server knows the identity as an ACL user whose passwords are the tokens it will be given.
        await using (var admin = TestRedis.Client(TestRedis.Options(server.Url)))
        {
            await admin.ExecuteAsync("ACL", ["SETUSER", objectId, "on", ">" + Token(objectId, 1), ">" + Token(objectId, 2), ">" + Token(objectId, 3), "~*", "+@all"]);
        }

        var options = TestRedis.Options($"redis://127.0.0.1:{server.Port}");
        var credentials = new ManagedIdentityRedisCredentials(identity.Client, new Uri(identity.Client.BaseAddress!, "/msi/token"), "identity-secret", null, TimeProvider.System);
        await using var client = new RedisClient(options, credentials, TimeProvider.System, NullLogger<RedisClient>.Instance);
        Assert.Equal("PONG", (await client.ExecuteAsync("PING", [])).AsString());
        Assert.Equal(objectId, (await client.ExecuteAsync("ACL", ["WHOAMI"])).AsString());
        var connectionId = (await client.ExecuteAsync("CLIENT", ["ID"])).AsInteger();

        // Before the token lapses the live connection authenticates again with a fresh one: same connection, new token.
        await Eventually.TrueAsync(() => Volatile.Read(ref issued) >= 2, TimeSpan.FromSeconds(15));
        await Eventually.TrueAsync(async () => (await client.ExecuteAsync("ACL", ["WHOAMI"])).AsString() == objectId, TimeSpan.FromSeconds(5));
        Assert.Equal(connectionId, (await client.ExecuteAsync("CLIENT", ["ID"])).AsInteger());
        Assert.True(client.IsConnected);
    }

    private static string Token(string objectId, int serial)
    {
        static string Part(object value) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{Part(new { alg = "none" })}.{Part(new { oid = objectId, n = serial })}.sig";
    }
}
