using System;
using System.IO;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>
    /// Unix permission bits of the files ReplyAdmin writes. On Windows nothing is read or changed (the profile's ACL
    /// protects the files there).
    /// </summary>
    internal static class UnixPermissions
    {
        /// <summary>Owner read and write (0600): the configuration and the journal files.</summary>
        public const int OwnerFile = 0x180;

        /// <summary>Owner read, write and search (0700): directories ReplyAdmin creates for them.</summary>
        public const int OwnerDirectory = 0x1C0;

        /// <summary>Writable by users other than the owner and the group (o+w, 0002).</summary>
        public const int OtherWrite = 0x2;

        /// <summary>The permission bits of a file or directory; null where not known.</summary>
        public static int? Get(string path)
        {
            if (OperatingSystem.IsWindows()) return null;
            try { return (int)File.GetUnixFileMode(path) & 0xFFF; }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { return null; }
        }

        /// <summary>Sets the permission bits; false where they cannot be set (Windows, another owner).</summary>
        public static bool Set(string path, int mode)
        {
            if (OperatingSystem.IsWindows()) return false;
            try
            {
                File.SetUnixFileMode(path, (UnixFileMode)mode);
                return true;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>Creates a directory owner-only (0700) if it does not exist; an existing one is left as its owner set it.</summary>
        public static void CreateOwnerDirectory(string path)
        {
            if (Directory.Exists(path)) return;
            Directory.CreateDirectory(path);
            Set(path, OwnerDirectory);
        }
    }
}
