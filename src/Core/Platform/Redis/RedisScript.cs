using System.Security.Cryptography;
using System.Text;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// A Lua script run with EVALSHA; on NOSCRIPT (a restarted or flushed server) the client loads it with
/// SCRIPT LOAD and runs it again. Create one per script, as a static.
/// </summary>
public sealed class RedisScript
{
    public RedisScript(string source)
    {
        Source = source;
        // Redis names scripts by SHA-1; this is an identifier, not a security measure.
#pragma warning disable CA5350
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(source)));
#pragma warning restore CA5350
    }

    public string Source { get; }

    public string Sha1 { get; }
}
