using System.Security.Cryptography;
using System.Text;
using AgentCrm.Core.Platform.Configuration;

namespace AgentCrm.Core.Platform.Security;

/// <summary>
/// Token settings (DESIGN.md §10). The signing key is a secret from configuration (Key Vault in Azure):
/// at least 32 bytes, given as base64 or as text. A previous key keeps tokens it signed valid while a
/// rotation rolls out. External issuers add bearer tokens from an OIDC provider (Entra ID, Supabase).
/// </summary>
public sealed record AuthOptions(
    byte[] SigningKey,
    byte[]? PreviousSigningKey,
    string Issuer,
    string Audience,
    TimeSpan AccessTokenLifetime,
    TimeSpan RefreshTokenLifetime,
    TimeSpan ClockSkew,
    int LockoutThreshold,
    TimeSpan LockoutDuration,
    TimeSpan InvitationLifetime,
    IReadOnlyList<ExternalIssuerOptions> ExternalIssuers)
{
    private const string KeyExample = "a random secret of at least 32 bytes, e.g. `openssl rand -base64 48`";

    public static AuthOptions Read(SettingsReader settings)
    {
        var key = Key(settings, "Auth:SigningKey", required: true) ?? [];
        var previous = Key(settings, "Auth:PreviousSigningKey", required: false);
        return new AuthOptions(
            key,
            previous,
            settings.OptionalString("Auth:Issuer") ?? "agentcrm",
            settings.OptionalString("Auth:Audience") ?? "agentcrm-api",
            TimeSpan.FromMinutes(settings.WholeNumber("Auth:AccessTokenMinutes", 60, 1, 24 * 60)),
            TimeSpan.FromDays(settings.WholeNumber("Auth:RefreshTokenDays", 7, 1, 365)),
            TimeSpan.FromSeconds(settings.WholeNumber("Auth:ClockSkewSeconds", 30, 0, 600)),
            settings.WholeNumber("Auth:LockoutThreshold", 5, 1, 100),
            TimeSpan.FromMinutes(settings.WholeNumber("Auth:LockoutMinutes", 15, 1, 24 * 60)),
            TimeSpan.FromDays(settings.WholeNumber("Auth:InvitationDays", 7, 1, 90)),
            ExternalIssuerOptions.ReadAll(settings));
    }

    private static byte[]? Key(SettingsReader settings, string setting, bool required)
    {
        var value = required ? settings.RequiredString(setting, KeyExample) : settings.OptionalString(setting);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var bytes = TryBase64(value) ?? Encoding.UTF8.GetBytes(value);
        if (bytes.Length < 32)
        {
            settings.Report(setting, $"is too short ({bytes.Length} bytes; HS256 needs at least 32)", KeyExample);
        }

        return bytes;
    }

    private static byte[]? TryBase64(string value)
    {
        var buffer = new byte[value.Length];
        return value.Length >= 44 && Convert.TryFromBase64String(value, buffer, out var written) ? buffer[..written] : null;
    }

    /// <summary>Names a key in a token header without revealing it: the first bytes of its hash.</summary>
    public static string KeyId(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 6));
}
