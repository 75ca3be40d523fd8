using System.Reflection;

namespace AgentCrm.Core.Platform.Data;

/// <summary>The ordered migrations this build carries: the .sql files embedded in AgentCrm.Core.</summary>
public sealed class MigrationCatalog
{
    private const string ResourcePrefix = "Migrations/";

    public MigrationCatalog(IEnumerable<Migration> migrations)
    {
        Migrations = [.. migrations.OrderBy(m => m.Version)];
        var duplicate = Migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new MigrationException($"Two migrations share version {duplicate.Key}: {string.Join(", ", duplicate.Select(m => m.Name))}.");
        }
    }

    public IReadOnlyList<Migration> Migrations { get; }

    /// <summary>The version the database must be at for this build to serve (0 when there are none).</summary>
    public int LatestVersion => Migrations.Count == 0 ? 0 : Migrations[^1].Version;

    public static MigrationCatalog Embedded { get; } = FromAssembly(typeof(MigrationCatalog).Assembly);

    public static MigrationCatalog FromAssembly(Assembly assembly)
    {
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(Migration.FromFile(resource[ResourcePrefix.Length..], reader.ReadToEnd()));
        }

        return new MigrationCatalog(migrations);
    }
}
