using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static AgentCrm.Functions.Tests.Infrastructure.TenantSeeder;

namespace AgentCrm.Functions.Tests.Identity;

/// <summary>Every way a bearer token can be wrong is a 401 problem; a configured OIDC issuer's tokens work.</summary>
public sealed class BearerTokenTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TestApp _app = null!;
    private FakeOidcIssuer _issuer = null!;
    private SeededUser _user = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(migrate: true);
        _issuer = await FakeOidcIssuer.StartAsync();
        _app = await TestApp.StartAsync(_db, new()
        {
            ["Auth:ExternalIssuers:0:Issuer"] = _issuer.Issuer,
            ["Auth:ExternalIssuers:0:Audience"] = "agentcrm-external",
        });
        var seed = new TenantSeeder(_db, _app);
        (_, _user) = await seed.WorkspaceWithOwnerAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _issuer.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static AccessTokenCodec Codec(string? key = null, string issuer = "agentcrm", string audience = "agentcrm-api", TimeProvider? time = null) =>
        new(new AuthOptions(Convert.FromBase64String(key ?? TestSecrets.SigningKey), null, issuer, audience, TimeSpan.FromHours(1), TimeSpan.FromDays(7),
            TimeSpan.FromSeconds(30), 5, TimeSpan.FromMinutes(15), TimeSpan.FromDays(7), []), time ?? TimeProvider.System);

    private async Task<string> MeDetailAsync(string? bearer, string? rawAuthorization = null)
    {
        var request = Request(HttpMethod.Get, "/api/me", bearer);
        if (rawAuthorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", rawAuthorization);
        }

        var response = await _app.Client.SendAsync(request);
        var problem = await HttpAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        return problem.GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task A_valid_token_of_ours_works()
    {
        var response = await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/me", _user.Token));
        Assert.Equal(_user.Id, (await HttpAssert.JsonAsync(response, HttpStatusCode.OK)).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task No_credentials_is_a_401_that_says_how_to_authenticate() =>
        Assert.Contains("Authorization: Bearer", await MeDetailAsync(null), StringComparison.Ordinal);

    [Fact]
    public async Task A_token_signed_with_another_key_is_refused()
    {
        // Same key id cannot be forged without the key: flip the signature instead, and also try a foreign key.
        var token = _user.Token[..^4] + (_user.Token[^4..] == "AAAA" ? "BBBB" : "AAAA");
        Assert.Contains("signature", await MeDetailAsync(token), StringComparison.Ordinal);

        var foreign = Codec(Convert.ToBase64String(RandomNumberGenerator.GetBytes(48))).Issue(_user.Id, null, Guid.NewGuid(), out _);
        Assert.Contains("does not trust", await MeDetailAsync(foreign), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-2));
        Assert.Contains("expired", await MeDetailAsync(Codec(time: past).Issue(_user.Id, null, Guid.NewGuid(), out _)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_issuer_and_wrong_audience_are_refused()
    {
        Assert.Contains("issuer", await MeDetailAsync(Codec(issuer: "someone-else").Issue(_user.Id, null, Guid.NewGuid(), out _)), StringComparison.Ordinal);
        Assert.Contains("audience", await MeDetailAsync(Codec(audience: "another-api").Issue(_user.Id, null, Guid.NewGuid(), out _)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alg_none_is_refused_even_with_a_valid_payload()
    {
        var payload = _user.Token.Split('.')[1];
        var header = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("""{"alg":"none","typ":"JWT"}"""));
        Assert.Contains("algorithm", await MeDetailAsync($"{header}.{payload}."), StringComparison.Ordinal);

        // And an HS256 token "signed" with the public key material of nothing: alg switched to RS256 on our key id.
        var rs = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"RS256","kid":"{{AuthOptions.KeyId(Convert.FromBase64String(TestSecrets.SigningKey))}}"}"""));
        Assert.Contains("algorithm", await MeDetailAsync($"{rs}.{payload}.{_user.Token.Split('.')[2]}"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("...")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.%%%%.abc")]
    public async Task Malformed_tokens_are_refused(string token) =>
        Assert.NotEmpty(await MeDetailAsync(token));

    [Fact]
    public async Task A_non_bearer_scheme_is_refused() =>
        Assert.Contains("malformed", await MeDetailAsync(null, "Basic dXNlcjpwYXNz"), StringComparison.Ordinal);

    [Fact]
    public async Task A_token_of_a_configured_oidc_issuer_signs_in_a_user_created_on_first_sight()
    {
        var token = _issuer.Token("subject-1", "agentcrm-external", "ext.person@example.test");

        var first = await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/me", token)), HttpStatusCode.OK);
        var again = await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/me", _issuer.Token("subject-1", "agentcrm-external", "ext.person@example.test"))), HttpStatusCode.OK);

        Assert.Equal("ext.person@example.test", first.GetProperty("email").GetString());
        Assert.Equal(first.GetProperty("id").GetGuid(), again.GetProperty("id").GetGuid());
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM user_identities WHERE subject = 'subject-1'"));
    }

    [Fact]
    public async Task An_oidc_token_for_another_audience_or_from_an_unknown_issuer_is_refused()
    {
        Assert.Contains("audience", await MeDetailAsync(_issuer.Token("subject-2", "someone-elses-api", null)), StringComparison.Ordinal);

        await using var stranger = await FakeOidcIssuer.StartAsync();
        Assert.Contains("does not trust", await MeDetailAsync(stranger.Token("subject-3", "agentcrm-external", null)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_external_email_never_takes_over_an_existing_local_account()
    {
        var token = _issuer.Token("subject-4", "agentcrm-external", _user.Email);

        var me = await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/me", token)), HttpStatusCode.OK);

        Assert.NotEqual(_user.Id, me.GetProperty("id").GetGuid());
    }
}

/// <summary>A real OIDC issuer on loopback: discovery document and JWKS, RS256 keys of its own.</summary>
public sealed class FakeOidcIssuer : IAsyncDisposable
{
    private static readonly string[] SigningAlgorithms = ["RS256"];
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key;

    private FakeOidcIssuer(WebApplication app, RsaSecurityKey key, string issuer)
    {
        _app = app;
        _key = key;
        Issuer = issuer;
    }

    public string Issuer { get; }

    public static async Task<FakeOidcIssuer> StartAsync()
    {
        var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N") };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        string Issuer() => app.Urls.First();
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer(),
            ["jwks_uri"] = Issuer() + "/jwks",
            ["id_token_signing_alg_values_supported"] = SigningAlgorithms,
        }));
        app.MapGet("/jwks", () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(key.Rsa.ExportParameters(false)) { KeyId = key.KeyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        await app.StartAsync();
        return new FakeOidcIssuer(app, key, Issuer());
    }

    public string Token(string subject, string audience, string? email)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (email is not null)
        {
            claims["email"] = email;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Claims = claims,
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
