using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Security;

/// <summary>
/// An OIDC issuer whose bearer tokens the API accepts (Auth:ExternalIssuers:N:*). Keys come from its
/// discovery document (or a JWKS address given directly); HTTPS is required except on loopback.
/// </summary>
public sealed record ExternalIssuerOptions(string Issuer, string Audience, Uri MetadataAddress, bool IsJwks)
{
    public static IReadOnlyList<ExternalIssuerOptions> ReadAll(SettingsReader settings)
    {
        var result = new List<ExternalIssuerOptions>();
        for (var i = 0; i < 16; i++)
        {
            var prefix = $"Auth:ExternalIssuers:{i}:";
            var issuer = settings.OptionalString(prefix + "Issuer");
            if (issuer is null)
            {
                break;
            }

            var audience = settings.RequiredString(prefix + "Audience", "the audience (client id) the issuer puts in tokens for this API");
            var jwks = settings.OptionalAbsoluteUri(prefix + "JwksUri", "https://login.example.com/.well-known/jwks.json");
            var metadata = settings.OptionalAbsoluteUri(prefix + "MetadataAddress", "https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration");
            if (!Uri.TryCreate(issuer, UriKind.Absolute, out _))
            {
                settings.Report(prefix + "Issuer", "is not an absolute URL", "https://login.microsoftonline.com/<tenant>/v2.0");
                continue;
            }

            var address = jwks ?? metadata ?? new Uri(issuer.TrimEnd('/') + "/.well-known/openid-configuration");
            if (address.Scheme != Uri.UriSchemeHttps && !address.IsLoopback)
            {
                settings.Report(prefix + (jwks is null ? "MetadataAddress" : "JwksUri"), "must use https (plain http only on loopback)", "https://...");
            }

            result.Add(new ExternalIssuerOptions(issuer, audience, address, jwks is not null));
        }

        return result;
    }
}
