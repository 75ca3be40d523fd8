using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AgentCrm.Core.Platform.Security;

/// <summary>
/// Random opaque secrets (refresh tokens, invitation tokens, API key secrets) and how they are stored:
/// SHA-256 of the text. A 256-bit random secret needs no slow hash; a lookup by hash is one index probe.
/// </summary>
public static class SecretTokens
{
    public static string New(int bytes = 32) => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(bytes));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
