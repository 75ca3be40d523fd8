using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AgentCrm.Core.Platform.Security;

/// <summary>
/// Validates bearer tokens from the configured OIDC issuers (Entra ID, Supabase) against their published
/// keys, which Microsoft.IdentityModel fetches, caches and refreshes when an unknown key id turns up.
/// The result is the issuer and its subject; <c>Identity</c> maps that to a user.
/// </summary>
public sealed class ExternalTokenValidator
{
    private readonly Dictionary<string, Issuer> _issuers;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    public ExternalTokenValidator(AuthOptions options, IHttpClientFactory httpClients)
    {
        _issuers = options.ExternalIssuers.ToDictionary(i => i.Issuer, i => new Issuer(i, httpClients, options.ClockSkew), StringComparer.Ordinal);
    }

    public bool HasIssuers => _issuers.Count > 0;

    public async Task<ExternalValidation> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        JsonWebToken unverified;
        try
        {
            unverified = new JsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or FormatException)
        {
            return new ExternalValidation(TokenFailure.Malformed, null);
        }

        if (unverified.Alg is null || unverified.Alg.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return new ExternalValidation(TokenFailure.UnsupportedAlgorithm, null);
        }

        if (!_issuers.TryGetValue(unverified.Issuer ?? string.Empty, out var issuer))
        {
            return new ExternalValidation(TokenFailure.UnknownKey, null);
        }

        TokenValidationParameters parameters;
        try
        {
            parameters = await issuer.ParametersAsync(cancellationToken);
        }
        catch (InvalidOperationException)
        {
            // The issuer's metadata or keys cannot be fetched: not the caller's fault, and worth retrying.
            throw new Problems.ProblemException(Problems.ProblemTypes.Unavailable, "The token issuer's signing keys cannot be fetched right now; retry later.");
        }

        var result = await _handler.ValidateTokenAsync(unverified, parameters);
        if (!result.IsValid)
        {
            return new ExternalValidation(Classify(result.Exception), null);
        }

        var claims = (JsonWebToken)result.SecurityToken;
        var subject = claims.Subject;
        if (string.IsNullOrEmpty(subject))
        {
            return new ExternalValidation(TokenFailure.Malformed, null);
        }

        claims.TryGetPayloadValue<string>("email", out var email);
        claims.TryGetPayloadValue<string>("name", out var name);
        return new ExternalValidation(TokenFailure.None, new ExternalIdentity(issuer.Options.Issuer, subject, email, name));
    }

    private static TokenFailure Classify(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => TokenFailure.Expired,
        SecurityTokenNotYetValidException => TokenFailure.NotYetValid,
        SecurityTokenInvalidAudienceException => TokenFailure.WrongAudience,
        SecurityTokenInvalidIssuerException => TokenFailure.WrongIssuer,
        SecurityTokenSignatureKeyNotFoundException => TokenFailure.UnknownKey,
        SecurityTokenInvalidAlgorithmException => TokenFailure.UnsupportedAlgorithm,
        SecurityTokenInvalidSignatureException => TokenFailure.BadSignature,
        _ => TokenFailure.Malformed,
    };

    private sealed class Issuer
    {
        private readonly ConfigurationManager<OpenIdConnectConfiguration> _configuration;
        private readonly TimeSpan _skew;

        public Issuer(ExternalIssuerOptions options, IHttpClientFactory httpClients, TimeSpan skew)
        {
            Options = options;
            _skew = skew;
            var retriever = new HttpDocumentRetriever(httpClients.CreateClient("oidc")) { RequireHttps = !options.MetadataAddress.IsLoopback };
            _configuration = options.IsJwks
                ? new ConfigurationManager<OpenIdConnectConfiguration>(options.MetadataAddress.AbsoluteUri, new JwksRetriever(), retriever)
                : new ConfigurationManager<OpenIdConnectConfiguration>(options.MetadataAddress.AbsoluteUri, new OpenIdConnectConfigurationRetriever(), retriever);
        }

        public ExternalIssuerOptions Options { get; }

        public async Task<TokenValidationParameters> ParametersAsync(CancellationToken cancellationToken)
        {
            var configuration = await _configuration.GetConfigurationAsync(cancellationToken);
            return new TokenValidationParameters
            {
                ValidIssuer = Options.Issuer,
                ValidAudience = Options.Audience,
                IssuerSigningKeys = configuration.SigningKeys,
                // Lets the handler refetch the keys once when a token names a key id it has not seen (a rotation).
                ConfigurationManager = _configuration,
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSsaPssSha256],
                ClockSkew = _skew,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
            };
        }
    }

    /// <summary>Reads a bare JWKS document (no discovery) into the configuration shape the manager caches.</summary>
    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var json = await retriever.GetDocumentAsync(address, cancel);
            var configuration = new OpenIdConnectConfiguration { JsonWebKeySet = new JsonWebKeySet(json) };
            foreach (var key in configuration.JsonWebKeySet.GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }

            return configuration;
        }
    }
}

public sealed record ExternalIdentity(string Issuer, string Subject, string? Email, string? Name);

public sealed record ExternalValidation(TokenFailure Failure, ExternalIdentity? Identity);
