using System.Security.Cryptography;
using System.Text;

namespace AgentCrm.Core.Platform.Data;

/// <summary>
/// One ordered SQL file. Its checksum is over the text with line endings normalised, so a checkout
/// on another OS does not look edited. A file whose first line is "-- migration: no-transaction"
/// runs outside a transaction (for CREATE INDEX CONCURRENTLY and the like).
/// </summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    private const string NoTransactionMarker = "-- migration: no-transaction";

    public string Checksum { get; } = Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(Sql.Replace("\r\n", "\n", StringComparison.Ordinal))));

    public bool Transactional => !Sql.TrimStart().StartsWith(NoTransactionMarker, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses "0001_platform.sql" into version 1, name "0001_platform".</summary>
    public static Migration FromFile(string fileName, string sql)
    {
        var name = Path.GetFileNameWithoutExtension(fileName);
        var digits = new string(name.TakeWhile(char.IsAsciiDigit).ToArray());
        if (digits.Length == 0 || !int.TryParse(digits, out var version) || version <= 0 || name.Length == digits.Length || name[digits.Length] != '_')
        {
            throw new MigrationException($"Migration file \"{fileName}\" must be named NNNN_description.sql with a positive version.");
        }

        return new Migration(version, name, sql);
    }
}
