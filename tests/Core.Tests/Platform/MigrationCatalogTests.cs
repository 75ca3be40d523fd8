using AgentCrm.Core.Platform.Data;

namespace AgentCrm.Core.Tests.Platform;

public class MigrationCatalogTests
{
    [Fact]
    public void Embedded_migrations_are_ordered_and_start_at_one()
    {
        var catalog = MigrationCatalog.Embedded;

        Assert.NotEmpty(catalog.Migrations);
        Assert.Equal(1, catalog.Migrations[0].Version);
        Assert.Equal(catalog.Migrations.Select(m => m.Version).Order(), catalog.Migrations.Select(m => m.Version));
        Assert.Equal(catalog.Migrations[^1].Version, catalog.LatestVersion);
    }

    [Theory]
    [InlineData("platform.sql")]
    [InlineData("0000_zero.sql")]
    [InlineData("0001.sql")]
    [InlineData("0001-dash.sql")]
    public void Badly_named_files_are_refused(string name)
    {
        var error = Assert.Throws<MigrationException>(() => Migration.FromFile(name, "SELECT 1"));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_versions_are_refused()
    {
        var error = Assert.Throws<MigrationException>(() => new MigrationCatalog([Migration.FromFile("0002_a.sql", "x"), Migration.FromFile("0002_b.sql", "y")]));
        Assert.Contains("0002_a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checksums_ignore_line_endings_but_not_content()
    {
        var unix = Migration.FromFile("0001_a.sql", "SELECT 1;\nSELECT 2;\n");
        var windows = Migration.FromFile("0001_a.sql", "SELECT 1;\r\nSELECT 2;\r\n");
        var edited = Migration.FromFile("0001_a.sql", "SELECT 1;\nSELECT 3;\n");

        Assert.Equal(unix.Checksum, windows.Checksum);
        Assert.NotEqual(unix.Checksum, edited.Checksum);
    }

    [Fact]
    public void The_no_transaction_marker_is_recognised()
    {
        Assert.True(Migration.FromFile("0001_a.sql", "CREATE TABLE t ()").Transactional);
        Assert.False(Migration.FromFile("0002_b.sql", "-- migration: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x)").Transactional);
    }
}
