using System;
using System.IO;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.Authentication
{
    /// <summary>A file that only its owner may read or write (mode 0600 on Unix): the token cache.</summary>
    internal static class OwnerOnlyFile
    {
        /// <summary>Replaces the file's content; the new file is restricted before any byte is written to it.</summary>
        public static void Write(string path, byte[] content)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                SetMode(directory, 0x1C0); // 0700
            }
            var temp = path + ".new";
            using (var create = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None)) { }
            SetMode(temp, 0x180); // 0600
            File.WriteAllBytes(temp, content);
            if (File.Exists(path)) File.Delete(path);
            File.Move(temp, path);
        }

        /// <summary>The content, or null when the file does not exist; refuses a file others can read.</summary>
        /// <exception cref="ReplyAdminException">The file is readable or writable by others.</exception>
        public static byte[] Read(string path, string field)
        {
            if (!File.Exists(path)) return null;
            var mode = CredentialResolver.UnixFileMode(path);
            if (mode.HasValue && (mode.Value & 0x3F) != 0)
                throw new ReplyAdminException(ErrorIds.OAuthTokenCacheTooOpen, ReplyAdminErrorKind.SecurityError,
                    $"The token cache '{path}' ({field}) can be read or written by other users (mode {Convert.ToString(mode.Value & 0x1FF, 8)}); it holds a refresh token.", path,
                    $"Restrict it to its owner (chmod 600 '{path}'), and, if others may have copied it, revoke the sessions of the account and sign in again with Connect-ReplyAccount.");
            return File.ReadAllBytes(path);
        }

        private static void SetMode(string path, int mode)
        {
            if (OperatingSystem.IsWindows()) return; // the user profile's ACL protects it there
            File.SetUnixFileMode(path, (UnixFileMode)mode);
        }
    }
}
