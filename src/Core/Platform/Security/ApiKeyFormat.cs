using System.Security.Cryptography;

namespace AgentCrm.Core.Platform.Security;

/// <summary>
/// An API key is <c>acrm_&lt;12 chars&gt;_&lt;43 chars&gt;</c>: the first two parts are the public prefix
/// (unique, shown in listings, used to find the key), the last is the secret, shown once.
/// </summary>
public static class ApiKeyFormat
{
    public const string Marker = "acrm_";
    private const string Alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    public static (string Prefix, string Secret, string Key) New()
    {
        var prefix = Marker + RandomNumberGenerator.GetString(Alphabet, 12);
        var secret = SecretTokens.New();
        return (prefix, secret, prefix + "_" + secret);
    }

    public static bool LooksLikeKey(ReadOnlySpan<char> value) => value.StartsWith(Marker, StringComparison.Ordinal);

    public static bool TryParse(string value, out string prefix, out string secret)
    {
        prefix = secret = string.Empty;
        var split = Marker.Length + 12;
        if (value.Length != split + 1 + 43 || !LooksLikeKey(value) || value[split] != '_')
        {
            return false;
        }

        prefix = value[..split];
        secret = value[(split + 1)..];
        return true;
    }
}
