using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>
    /// Unix permission bits of the files ReplyAdmin writes. netstandard2.0 has no API for them; .NET 7+ (PowerShell 7.3+)
    /// has File.Get/SetUnixFileMode, reached by reflection. On Windows, or without that API, nothing is read or changed.
    /// </summary>
    internal static class UnixPermissions
    {
        /// <summary>Owner read and write (0600): the configuration and the journal files.</summary>
        public const int OwnerFile = 0x180;

        /// <summary>Owner read, write and search (0700): directories ReplyAdmin creates for them.</summary>
        public const int OwnerDirectory = 0x1C0;

        /// <summary>Writable by users other than the owner and the group (o+w, 0002).</summary>
        public const int OtherWrite = 0x2;

        private static readonly MethodInfo Getter = typeof(File).GetMethod("GetUnixFileMode", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
        private static readonly Type ModeType = Getter?.ReturnType;
        private static readonly MethodInfo Setter = ModeType == null ? null
            : typeof(File).GetMethod("SetUnixFileMode", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), ModeType }, null);

        private static bool Available => Setter != null && !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>The permission bits of a file or directory; null where not known.</summary>
        public static int? Get(string path)
        {
            if (!Available) return null;
            try { return Convert.ToInt32(Getter.Invoke(null, new object[] { path })) & 0xFFF; }
            catch (TargetInvocationException) { return null; }
        }

        /// <summary>Sets the permission bits; false where they cannot be set (another owner, no such API).</summary>
        public static bool Set(string path, int mode)
        {
            if (!Available) return false;
            try
            {
                Setter.Invoke(null, new[] { path, Enum.ToObject(ModeType, mode) });
                return true;
            }
            catch (TargetInvocationException e) when (e.InnerException is IOException || e.InnerException is UnauthorizedAccessException)
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
