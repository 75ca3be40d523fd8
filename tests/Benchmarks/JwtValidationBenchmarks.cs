using System.Security.Cryptography;
using System.Text;
using AgentCrm.Core.Platform.Security;
using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentCrm.Benchmarks;

/// <summary>
/// Access-token validation per request. Baselines in the same run: the HMAC-SHA256 over the token's
/// signing input alone (the floor: what any validator must at least compute) and Microsoft.IdentityModel's
/// JsonWebTokenHandler with equivalent parameters (what the usual JWT bearer stack costs).
/// </summary>
[MemoryDiagnoser]
public class JwtValidationBenchmarks
{
    private AccessTokenCodec _codec = null!;
    private string _token = null!;
    private byte[] _signingInput = null!;
    private byte[] _key = null!;
    private JsonWebTokenHandler _handler = null!;
    private TokenValidationParameters _parameters = null!;

    [GlobalSetup]
    public void Setup()
    {
        _key = RandomNumberGenerator.GetBytes(48);
        var options = new AuthOptions(_key, null, "agentcrm", "agentcrm-api", TimeSpan.FromHours(1), TimeSpan.FromDays(7),
            TimeSpan.FromSeconds(30), 5, TimeSpan.FromMinutes(15), TimeSpan.FromDays(7), []);
        _codec = new AccessTokenCodec(options, TimeProvider.System);
        _token = _codec.Issue(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), out _);
        _signingInput = Encoding.ASCII.GetBytes(_token[.._token.LastIndexOf('.')]);
        _handler = new JsonWebTokenHandler { MapInboundClaims = false };
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = "agentcrm",
            ValidAudience = "agentcrm-api",
            IssuerSigningKey = new SymmetricSecurityKey(_key) { KeyId = AuthOptions.KeyId(_key) },
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        };
        if (_codec.Validate(_token, out _) != TokenFailure.None || !_handler.ValidateTokenAsync(_token, _parameters).Result.IsValid)
        {
            throw new InvalidOperationException("The benchmark token does not validate.");
        }
    }

    [Benchmark(Baseline = true, Description = "HMAC-SHA256 of the signing input only")]
    public byte[] HmacOnly() => HMACSHA256.HashData(_key, _signingInput);

    [Benchmark(Description = "AccessTokenCodec, a token seen before (every request after a client's first)")]
    public TokenFailure OursRemembered() => _codec.Validate(_token, out _);

    [Benchmark(Description = "AccessTokenCodec, first sight (full validation)")]
    public TokenFailure OursFirstSight() => _codec.ValidateUncached(_token, out _);

    [Benchmark(Description = "JsonWebTokenHandler.ValidateTokenAsync")]
    public async Task<bool> IdentityModel() => (await _handler.ValidateTokenAsync(_token, _parameters)).IsValid;
}
